/* Polled USART1 driver for the STM32F405 of QEMU's netduinoplus2 (no HAL, no interrupts). */
#ifndef STREAM_DEMO_UART_H
#define STREAM_DEMO_UART_H

#include <stdint.h>

/* Clock the peripheral and enable receive + transmit, 8N1. */
void uart_init(void);

/* Block until a byte has arrived; returns it. */
uint8_t uart_read(void);

/* Send a NUL-terminated string, blocking per byte until the transmit register is free. */
void uart_write(const char *text);

#endif
