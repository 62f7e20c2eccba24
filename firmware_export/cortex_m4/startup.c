/* Cortex-M4F start-up shared by the boards: the core vectors, .data/.bss set-up, FPU on, then
 * board_exit(main()). Every exception ends the run with exit code 99. The board's linker script
 * places .isr_vector at the start of flash and defines the symbols below. */
#include <stdint.h>

#include "board.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);
void Reset_Handler(void);
static void Default_Handler(void);

__attribute__((section(".isr_vector"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_estack), Reset_Handler, Default_Handler, Default_Handler,
    Default_Handler, Default_Handler, Default_Handler, 0, 0, 0, 0,
    Default_Handler, Default_Handler, 0, Default_Handler, Default_Handler,
};

void Reset_Handler(void)
{
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sbss; dst < &_ebss; ++dst) {
        *dst = 0;
    }
    /* CPACR: full access to CP10/CP11, since the code is built for the hard-float ABI */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb");
    board_exit(main());
}

static void Default_Handler(void) { board_exit(99); }
