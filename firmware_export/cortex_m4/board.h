/* The board services a validation firmware uses: a text console, a cycle counter and the end of
 * the run. Each board's folder implements them (board.c) for its own silicon or emulator:
 * qemu/ for QEMU's netduinoplus2, b_l475e_iot01a/ for ST's Discovery kit. */
#ifndef BOARD_H
#define BOARD_H

#include <stdint.h>

/* Clocks and console; main() calls it first. */
void board_init(void);

/* Send NUL-terminated text to the console (blocking). */
void board_write(const char *text);

/* Restart the cycle counter. */
void board_cycles_start(void);

/* Core clock cycles since board_cycles_start, or 0 where the board has no cycle counter
 * (QEMU does not model the DWT's CYCCNT). */
uint32_t board_cycles(void);

/* End the run (main's return value, 99 after a fault): QEMU exits with ``code`` through
 * semihosting; a real board idles. */
void board_exit(int code);

#endif
