/* Polled driver of a board's serial link: USART1, which the ST-LINK's virtual COM port carries on
 * ST's boards and QEMU maps to its first -serial chardev (no HAL, no interrupts). Each board's
 * folder implements it (uart.c) for its own USART. */
#ifndef BOARD_UART_H
#define BOARD_UART_H

#include <stdint.h>

/* Clock the peripheral and enable receive + transmit, 8N1 at 115200 baud. */
void uart_init(void);

/* Block until a byte has arrived; returns it. */
uint8_t uart_read(void);

/* Send a NUL-terminated string, blocking per byte until the transmit register is free. */
void uart_write(const char *text);

#endif
