/* B-L475E-IOT01A (STM32L475VG, RM0351): console on USART1 (uart.c, the ST-LINK virtual COM port),
 * cycle counts from the DWT, and the end of the run through semihosting when built for QEMU
 * (BOARD_SEMIHOSTING). */
#include "board.h"
#include "semihost.h"
#include "uart.h"

#define REG(address) (*(volatile uint32_t *)(address))

#define DEMCR REG(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define DWT_CTRL REG(0xE0001000u)
#define DWT_CYCCNT REG(0xE0001004u)
#define DWT_CTRL_CYCCNTENA (1u << 0)
#define DWT_CTRL_NOCYCCNT (1u << 25)

void board_init(void) { uart_init(); }

void board_write(const char *text) { uart_write(text); }

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
