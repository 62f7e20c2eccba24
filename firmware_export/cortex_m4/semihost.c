/* ARM semihosting (QEMU with -semihosting-config enable=on): text to the host's console
 * (SYS_WRITE0) and the process exit code (SYS_EXIT_EXTENDED). */
#include <stdint.h>

#include "semihost.h"

static int semihost_call(int op, const void *arg)
{
    register int r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void semihost_write(const char *text) { semihost_call(0x04, text); }

void semihost_exit(int code)
{
    const uint32_t block[2] = {0x20026u, (uint32_t)code}; /* ADP_Stopped_ApplicationExit, code */
    semihost_call(0x20, block);
    for (;;) {
    }
}
