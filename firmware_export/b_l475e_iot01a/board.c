/* B-L475E-IOT01A (STM32L475VG, RM0351): console on USART1 (PB6 TX / PB7 RX, the ST-LINK virtual
 * COM port) at 115200 baud from the 4 MHz MSI reset clock, cycle counts from the DWT, and the end
 * of the run through semihosting when built for QEMU (BOARD_SEMIHOSTING). */
#include "board.h"
#include "semihost.h"

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
#define USART1_TDR REG(0x40013828u)
#define USART_CR1_UE (1u << 0)
#define USART_CR1_RE (1u << 2)
#define USART_CR1_TE (1u << 3)
#define USART_ISR_TC (1u << 6)
#define USART_ISR_TXE (1u << 7)
/* 4 MHz MSI / 115200 baud, 16x oversampling: 34.7 -> 35 (0.8 % off, inside the UART tolerance) */
#define USART_BRR_115200_AT_4MHZ 35u

#define DEMCR REG(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)

void board_init(void)
{
    RCC_AHB2ENR |= RCC_AHB2ENR_GPIOBEN;
    RCC_APB2ENR |= RCC_APB2ENR_USART1EN;
    (void)RCC_APB2ENR; /* read back: the clock is running before the peripheral is touched */
    GPIOB_MODER = (GPIOB_MODER & ~(0xFu << 12)) | (GPIO_MODE_ALTERNATE << 12) | (GPIO_MODE_ALTERNATE << 14);
    GPIOB_AFRL = (GPIOB_AFRL & ~(0xFFu << 24)) | (GPIO_AF7_USART1 << 24) | (GPIO_AF7_USART1 << 28);
    USART1_BRR = USART_BRR_115200_AT_4MHZ;
    USART1_CR1 = USART_CR1_UE | USART_CR1_TE | USART_CR1_RE;
}

void board_write(const char *text)
{
    for (; *text != '\0'; ++text) {
        while ((USART1_ISR & USART_ISR_TXE) == 0u) {
        }
        USART1_TDR = (uint8_t)*text;
    }
    while ((USART1_ISR & USART_ISR_TC) == 0u) { /* the last byte has left the shift register */
    }
}

void board_cycles_start(void)
{
    DEMCR |= DEMCR_TRCENA;
    if ((DWT_CTRL & DWT_CTRL_NOCYCCNT) == 0u) {
        DWT_CYCCNT = 0u;
        DWT_CTRL |= DWT_CTRL_CYCCNTENA;
    }
}

uint32_t board_cycles(void)
{
    return (DWT_CTRL & DWT_CTRL_CYCCNTENA) != 0u ? DWT_CYCCNT : 0u;
}

void board_exit(int code)
{
#ifdef BOARD_SEMIHOSTING
    semihost_exit(code);
#else
    (void)code; /* a board without a debugger attached has nowhere to go: idle */
#endif
    for (;;) {
        __asm__ volatile("wfi");
    }
}
