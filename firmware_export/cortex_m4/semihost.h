/* ARM semihosting on QEMU: text to the host's stdout and the process exit code. */
#ifndef SEMIHOST_H
#define SEMIHOST_H

void semihost_write(const char *text);
void semihost_exit(int code);

#endif
