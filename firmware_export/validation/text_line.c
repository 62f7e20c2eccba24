/* Text lines of the validation firmware (see text_line.h). */
#include "text_line.h"

char *line_text(char *p, const char *text)
{
    while (*text != '\0') {
        *p++ = *text++;
    }
    return p;
}

char *line_hex(char *p, unsigned value, int digits)
{
    static const char hex[] = "0123456789abcdef";
    int i;
    for (i = digits - 1; i >= 0; --i) {
        *p++ = hex[(value >> (4 * i)) & 0xFu];
    }
    return p;
}

char *line_bytes(char *p, const void *data, size_t count)
{
    const uint8_t *bytes = (const uint8_t *)data;
    size_t k;
    for (k = 0; k < count; ++k) {
        p = line_hex(p, bytes[k], 2);
    }
    return p;
}

char *line_decimal(char *p, uint32_t value)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u);
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

char *line_answer(char *p, unsigned index, const void *output, size_t output_bytes, uint32_t cycles)
{
    p = line_hex(line_text(p, "out "), index, 4);
    *p++ = ' ';
    p = line_bytes(p, output, output_bytes);
    *p++ = '\n';
    if (cycles != 0u) {
        p = line_hex(line_text(p, "cycles "), index, 4);
        *p++ = ' ';
        p = line_decimal(p, cycles);
        *p++ = '\n';
    }
    *p = '\0';
    return p;
}
