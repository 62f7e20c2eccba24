/* QEMU's netduinoplus2: console and exit code through semihosting; no cycle counter. */
#include "board.h"
#include "semihost.h"

void board_init(void) {}

void board_write(const char *text) { semihost_write(text); }

void board_cycles_start(void) {}

uint32_t board_cycles(void) { return 0u; }

void board_exit(int code) { semihost_exit(code); }
