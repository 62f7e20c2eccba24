/* Building the text lines validation firmware prints: each call appends at p and returns the new end. */
#ifndef VALIDATION_TEXT_LINE_H
#define VALIDATION_TEXT_LINE_H

#include <stddef.h>
#include <stdint.h>

char *line_text(char *p, const char *text);

/* value as exactly ``digits`` lower-case hex digits */
char *line_hex(char *p, unsigned value, int digits);

/* ``count`` bytes of ``data`` in memory order, two hex digits each */
char *line_bytes(char *p, const void *data, size_t count);

char *line_decimal(char *p, uint32_t value);

/* A line answering one inference: "out <index> <output bytes>\n", then "cycles <index> <n>\n" when
 * cycles is not 0 (the board counts them); NUL-terminated. */
char *line_answer(char *p, unsigned index, const void *output, size_t output_bytes, uint32_t cycles);

#endif
