/* Stream demo firmware: receives `synth stream --format binary` frames on USART1, cuts the samples
 * into non-overlapping windows of the classifier's length, runs the standalone-C int8 classifier on
 * each, and answers one line per window:
 *     window N class K LABEL scores S0 S1 ...      (scores: the model's raw int8 outputs)
 * The text line "END\n", sent between frames, ends the run: the firmware answers
 *     stats frames F samples S lost L corrupted C partial P duplicated D garbage G leftover R
 * and exits through semihosting (exit code 0, or 1 if an inference failed), so QEMU terminates.
 * Every line also goes to the semihosting console. Nothing is sent before the first byte arrives
 * (pyserial's socket:// discards what arrives right at connect). */
#include <stddef.h>
#include <stdint.h>

#include "semihost.h"
#include "stream_demo_config.h"
#include "synth_stream_frame.h"
#include "uart.h"

#define END_MARKER "END\n"
#define END_MARKER_LENGTH 4u
#define LINE_BYTES (64u + 5u * DEMO_OUTPUT_SIZE)

typedef struct {
    int8_t input[DEMO_INPUT_SIZE]; /* the window being filled: x, y, z int8 per sample */
    size_t filled;                 /* int8 values in input */
    uint32_t windows;              /* windows classified so far */
    int failures;                  /* invoke calls that returned non-zero */
} demo_t;

#ifdef DEMO_LABELS
static const char *const labels[DEMO_LABEL_COUNT] = DEMO_LABELS;
#endif

/* int16 output code (LSB) -> the model's int8 input, integer only: zero point + round(lsb * M / 2^S),
 * rounding half up (an arithmetic right shift floors), then saturated to int8. */
static int8_t quantize(int16_t lsb)
{
    const int64_t half = (int64_t)1 << (DEMO_INPUT_SHIFT - 1);
    int64_t q = (((int64_t)lsb * DEMO_INPUT_MULTIPLIER + half) >> DEMO_INPUT_SHIFT) + DEMO_INPUT_ZERO_POINT;
    return (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
}

static char *put_text(char *p, const char *text)
{
    while (*text != '\0') {
        *p++ = *text++;
    }
    return p;
}

static char *put_int(char *p, long value)
{
    char digits[12];
    int n = 0;
    unsigned long magnitude = value < 0 ? 0ul - (unsigned long)value : (unsigned long)value;
    if (value < 0) {
        *p++ = '-';
    }
    do {
        digits[n++] = (char)('0' + magnitude % 10ul);
        magnitude /= 10ul;
    } while (magnitude != 0ul);
    while (n > 0) {
        *p++ = digits[--n];
    }
    return p;
}

/* A labelled number: " name value". */
static char *put_field(char *p, const char *name, long value)
{
    *p++ = ' ';
    p = put_text(p, name);
    *p++ = ' ';
    return put_int(p, value);
}

/* Send a finished line to the host over the UART and to the semihosting console. */
static void emit(char *line, char *end)
{
    *end++ = '\n';
    *end = '\0';
    uart_write(line);
    semihost_write(line);
}

static int argmax(const int8_t *scores)
{
    int k, best = 0;
    for (k = 1; k < DEMO_OUTPUT_SIZE; ++k) {
        best = scores[k] > scores[best] ? k : best;
    }
    return best;
}

static void classify_window(demo_t *demo)
{
    int8_t scores[DEMO_OUTPUT_SIZE];
    char line[LINE_BYTES];
    char *p;
    int k, best;
    demo->failures += DEMO_INVOKE(demo->input, scores) != 0;
    best = argmax(scores);
    p = put_text(line, "window ");
    p = put_int(p, (long)demo->windows);
    p = put_field(p, "class", best);
#ifdef DEMO_LABELS
    *p++ = ' ';
    p = put_text(p, labels[best]);
#endif
    p = put_text(p, " scores");
    for (k = 0; k < DEMO_OUTPUT_SIZE; ++k) {
        *p++ = ' ';
        p = put_int(p, scores[k]);
    }
    emit(line, p);
    demo->windows += 1u;
    demo->filled = 0;
}

/* Decoder callback: quantise each sample into the window, classify every full window. */
static void on_frame(void *context, uint16_t sequence, const int16_t *xyz, uint16_t count)
{
    demo_t *demo = (demo_t *)context;
    size_t i;
    (void)sequence;
    for (i = 0; i < (size_t)count * SYNTH_STREAM_AXES; ++i) {
        demo->input[demo->filled++] = quantize(xyz[i]);
        if (demo->filled == DEMO_INPUT_SIZE) {
            classify_window(demo);
        }
    }
}

static void report_stats(const synth_stream_stats_t *s, size_t leftover_values)
{
    char line[LINE_BYTES + 160];
    char *p = put_text(line, "stats");
    p = put_field(p, "frames", (long)s->frames);
    p = put_field(p, "samples", (long)s->samples);
    p = put_field(p, "lost", (long)s->lost);
    p = put_field(p, "corrupted", (long)s->corrupted);
    p = put_field(p, "partial", (long)s->partial);
    p = put_field(p, "duplicated", (long)s->duplicated);
    p = put_field(p, "garbage", (long)s->garbage_bytes);
    p = put_field(p, "leftover", (long)(leftover_values / SYNTH_STREAM_AXES));
    emit(line, p);
}

/* Receive until the end marker. The marker is looked for only between frames (decoder empty):
 * a frame starts with the sync byte 0xA5, so 'E' there cannot be frame data. */
static void receive(synth_stream_decoder_t *decoder, demo_t *demo)
{
    static const uint8_t marker[] = END_MARKER;
    size_t matched = 0;
    for (;;) {
        uint8_t byte = uart_read();
        if ((matched > 0u || decoder->length == 0u) && byte == marker[matched]) {
            if (++matched == END_MARKER_LENGTH) {
                return;
            }
            continue;
        }
        /* not the marker after all: the held bytes are ordinary input */
        synth_stream_decoder_feed(decoder, marker, matched, on_frame, demo);
        matched = 0;
        synth_stream_decoder_feed(decoder, &byte, 1u, on_frame, demo);
    }
}

int main(void)
{
    static synth_stream_decoder_t decoder;
    static demo_t demo;
    uart_init();
    synth_stream_decoder_init(&decoder);
    receive(&decoder, &demo);
    synth_stream_decoder_finish(&decoder, on_frame, &demo);
    report_stats(&decoder.stats, demo.filled);
    return demo.failures ? 1 : 0;
}
