/* synth_stream_frame.c: encoder and incremental decoder of the `synth stream` binary frame.
 *
 * C99, no allocation, no I/O. The decoder follows synth/stream/frame.py step by step so that
 * both count lost, corrupted, partial and duplicated frames the same way (tested together).
 */
#include "synth_stream_frame.h"

#include <string.h>

static const uint16_t crc_table[256] = { SYNTH_STREAM_CRC_TABLE_INIT };

uint16_t synth_stream_crc16(const uint8_t *data, size_t length)
{
    uint16_t crc = SYNTH_STREAM_CRC_INIT;
    size_t i;
    for (i = 0; i < length; ++i) {
        crc = (uint16_t)((crc << 8) ^ crc_table[((crc >> 8) ^ data[i]) & 0xFFu]);
    }
    return crc;
}

static void put_u16(uint8_t *out, uint16_t value)
{
    out[0] = (uint8_t)(value & 0xFFu);
    out[1] = (uint8_t)(value >> 8);
}

static uint16_t get_u16(const uint8_t *in)
{
    return (uint16_t)(in[0] | (in[1] << 8));
}

size_t synth_stream_encode(uint8_t *out, size_t capacity, uint16_t sequence, const int16_t *xyz, uint16_t count)
{
    size_t size = SYNTH_STREAM_FRAME_BYTES((size_t)count);
    size_t i;
    if (count == 0u || count > SYNTH_STREAM_MAX_SAMPLES || size > capacity) {
        return 0u;
    }
    out[0] = SYNTH_STREAM_SYNC0;
    out[1] = SYNTH_STREAM_SYNC1;
    put_u16(out + 2, sequence);
    put_u16(out + 4, count);
    for (i = 0; i < (size_t)count * SYNTH_STREAM_AXES; ++i) {
        put_u16(out + SYNTH_STREAM_HEADER_BYTES + 2u * i, (uint16_t)xyz[i]);
    }
    put_u16(out + size - SYNTH_STREAM_CRC_BYTES, synth_stream_crc16(out + 2, size - 2u - SYNTH_STREAM_CRC_BYTES));
    return size;
}

void synth_stream_decoder_init(synth_stream_decoder_t *decoder)
{
    memset(decoder, 0, sizeof *decoder);
}

/* Index of the first sync word lying wholly in buffer[start, end + 1), or end when there is none. */
static size_t next_sync(const synth_stream_decoder_t *d, size_t start, size_t end)
{
    size_t limit = end + 1u < d->length ? end + 1u : d->length;
    size_t i;
    for (i = start; i + 1u < limit; ++i) {
        if (d->buffer[i] == SYNTH_STREAM_SYNC0 && d->buffer[i + 1u] == SYNTH_STREAM_SYNC1) {
            return i;
        }
    }
    return end;
}

static void drop(synth_stream_decoder_t *d, size_t count, int garbage)
{
    if (garbage) {
        d->stats.garbage_bytes += (uint32_t)count;
    }
    memmove(d->buffer, d->buffer + count, d->length - count);
    d->length -= count;
}

/* Update lost / duplicated from a valid frame's sequence number; 0 for a duplicate (dropped). */
static int count_sequence(synth_stream_decoder_t *d, uint16_t sequence)
{
    uint16_t gap;
    uint32_t explained;
    if (!d->have_last) {
        d->have_last = 1;
        d->last_sequence = sequence;
        return 1;
    }
    gap = (uint16_t)(sequence - d->last_sequence - 1u);
    if (gap >= 0x8000u) {
        d->stats.duplicated += 1u;
        return 0;
    }
    d->last_sequence = sequence;
    d->stats.missing += gap;
    explained = d->stats.corrupted + d->stats.partial;
    d->stats.lost = d->stats.missing > explained ? d->stats.missing - explained : 0u;
    return 1;
}

/* Check the complete frame at the buffer's start; deliver it if valid. Consumes it either way. */
static void check_frame(synth_stream_decoder_t *d, uint16_t sequence, uint16_t count, size_t size,
                        synth_stream_frame_fn on_frame, void *context)
{
    uint16_t crc = get_u16(d->buffer + size - SYNTH_STREAM_CRC_BYTES);
    size_t i;
    if (crc != synth_stream_crc16(d->buffer + 2, size - 2u - SYNTH_STREAM_CRC_BYTES)) {
        /* a sync word inside the span means this frame was cut short and another began */
        size_t inner = next_sync(d, 1u, size);
        if (inner < size) {
            d->stats.partial += 1u;
            drop(d, inner, 0);
        } else {
            d->stats.corrupted += 1u;
            drop(d, size, 0);
        }
        return;
    }
    for (i = 0; i < (size_t)count * SYNTH_STREAM_AXES; ++i) {
        d->samples[i] = (int16_t)get_u16(d->buffer + SYNTH_STREAM_HEADER_BYTES + 2u * i);
    }
    drop(d, size, 0);
    if (count_sequence(d, sequence)) {
        d->stats.frames += 1u;
        d->stats.samples += count;
        if (on_frame != NULL) {
            on_frame(context, sequence, d->samples, count);
        }
    }
}

/* Decode every complete frame in the buffer; stops at an incomplete one. */
static void drain(synth_stream_decoder_t *d, synth_stream_frame_fn on_frame, void *context)
{
    for (;;) {
        size_t start = next_sync(d, 0u, d->length);
        uint16_t sequence, count;
        size_t size;
        if (start == d->length) {
            /* keep a trailing first sync byte: the second may come with the next bytes */
            size_t keep = (d->length > 0u && d->buffer[d->length - 1u] == SYNTH_STREAM_SYNC0) ? 1u : 0u;
            drop(d, d->length - keep, 1);
            return;
        }
        drop(d, start, 1);
        if (d->length < SYNTH_STREAM_HEADER_BYTES) {
            return;
        }
        sequence = get_u16(d->buffer + 2);
        count = get_u16(d->buffer + 4);
        if (count == 0u || count > SYNTH_STREAM_MAX_SAMPLES) {
            d->stats.corrupted += 1u;
            drop(d, 2u, 0);
            continue;
        }
        size = SYNTH_STREAM_FRAME_BYTES((size_t)count);
        if (d->length < size) {
            return;
        }
        check_frame(d, sequence, count, size, on_frame, context);
    }
}

void synth_stream_decoder_feed(synth_stream_decoder_t *decoder, const uint8_t *data, size_t length,
                               synth_stream_frame_fn on_frame, void *context)
{
    while (length > 0u) {
        /* after a drain at most one incomplete frame is held, so there is room for more */
        size_t room = SYNTH_STREAM_DECODER_BUFFER - decoder->length;
        size_t take = length < room ? length : room;
        memcpy(decoder->buffer + decoder->length, data, take);
        decoder->length += take;
        data += take;
        length -= take;
        drain(decoder, on_frame, context);
    }
}

void synth_stream_decoder_finish(synth_stream_decoder_t *decoder, synth_stream_frame_fn on_frame, void *context)
{
    drain(decoder, on_frame, context);
    while (decoder->length > 0u) {
        decoder->stats.partial += 1u;
        drop(decoder, next_sync(decoder, 1u, decoder->length), 0);
        drain(decoder, on_frame, context);
    }
}
