/* Polled USART1 of the STM32L475VG (reference manual RM0351) on PB6 (TX) / PB7 (RX), alternate
 * function 7: the B-L475E-IOT01A routes them to the ST-LINK's virtual COM port. 115200 baud from
 * the 4 MHz MSI clock the chip starts on. */
#include "uart.h"

#define REG(address) (*(volatile uint32_t *)(address))

#define RCC_AHB2ENR REG(0x4002104Cu)
#define RCC_APB2ENR REG(0x40021060u)
#define RCC_AHB2ENR_GPIOBEN (1u << 1)
#define RCC_APB2ENR_USART1EN (1u << 14)

#define GPIOB_MODER REG(0x48000400u)
#define GPIOB_AFRL REG(0x48000420u)
#define GPIO_MODE_ALTERNATE 2u
#define GPIO_AF7_USART1 7u

#define USART1_CR1 REG(0x40013800u)
#define USART1_BRR REG(0x4001380Cu)
#define USART1_ISR REG(0x4001381Cu)
#define USART1_RDR REG(0x40013824u)
#define USART1_TDR REG(0x40013828u)
#define USART_CR1_UE (1u << 0)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_ISR_RXNE (1u << 5)
#define USART_ISR_TC (1u << 6)
#define USART_ISR_TXE (1u << 7)
/* 4 MHz MSI / 115200 baud, 16x oversampling: 34.7 -> 35 (0.8 % off, inside the UART tolerance) */
#define USART_BRR_115200_AT_4MHZ 35u

void uart_init(void)
{
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOBEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    (void)RCC_APB2ENR; /* read back: the clocks run before the peripherals are touched */
    GPIOB_MODER = (GPIOB_MODER & ~(0xFu << 12)) | (GPIO_MODE_ALTERNATE << 12) | (GPIO_MODE_ALTERNATE << 14);
    GPIOB_AFRL = (GPIOB_AFRL & ~(0xFFu << 24)) | (GPIO_AF7_USART1 << 24) | (GPIO_AF7_USART1 << 28);
    USART1_BRR = USART_BRR_115200_AT_4MHZ;
    USART1_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

uint8_t uart_read(void)
{
    while ((USART1_ISR & USART_ISR_RXNE) == 0u) {
    }
    return (uint8_t)USART1_RDR;
}

void uart_write(const char *text)
{
    for (; *text != '\0'; ++text) {
        while ((USART1_ISR & USART_ISR_TXE) == 0u) {
        }
        USART1_TDR = (uint8_t)*text;
    }
    while ((USART1_ISR & USART_ISR_TC) == 0u) { /* the last byte has left the shift register */
    }
}
