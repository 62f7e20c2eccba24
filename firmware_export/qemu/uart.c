/* Polled USART1 of the STM32F405 (reference manual RM0090): the netduinoplus2's serial link.
 * QEMU maps its first -serial chardev to USART1 and ignores the baud rate; on silicon the PA9/PA10
 * alternate-function set-up would come first (QEMU does not model the GPIO muxing). */
#include "uart.h"

#define RCC_APB2ENR (*(volatile uint32_t *)0x40023844u)
#define RCC_APB2ENR_USART1EN (1u << 4)

#define USART1_BASE 0x40011000u
#define USART_SR (*(volatile uint32_t *)(USART1_BASE + 0x00u))
#define USART_DR (*(volatile uint32_t *)(USART1_BASE + 0x04u))
#define USART_BRR (*(volatile uint32_t *)(USART1_BASE + 0x08u))
#define USART_CR1 (*(volatile uint32_t *)(USART1_BASE + 0x0Cu))
#define USART_SR_RXNE (1u << 5)
#define USART_SR_TXE (1u << 7)
#define USART_CR1_UE (1u << 13)
#define USART_CR1_TE (1u << 3)
#define USART_CR1_RE (1u << 2)

/* 115200 baud from the 16 MHz HSI reset clock with 16x oversampling: 16e6 / 115200 = 138.9 -> 0x8B */
#define USART_BRR_115200_AT_16MHZ 0x8Bu

void uart_init(void)
{
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    USART_BRR = USART_BRR_115200_AT_16MHZ;
    /* QEMU drops bytes that arrive before UE and RE are set: do this first thing after boot */
    USART_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

uint8_t uart_read(void)
{
    while ((USART_SR & USART_SR_RXNE) == 0u) {
    }
    return (uint8_t)USART_DR;
}

void uart_write(const char *text)
{
    for (; *text != '\0'; ++text) {
        while ((USART_SR & USART_SR_TXE) == 0u) {
        }
        USART_DR = (uint8_t)*text;
    }
}
