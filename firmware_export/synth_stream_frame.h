/* synth_stream_frame.h: the binary frame of `synth stream --format binary`.
 *
 * GENERATED from synth/stream/frame.py by `python -m synth.stream.c_header`: do not edit;
 * change the Python definition and regenerate (a test checks this file matches it).
 *
 * Frame (multi-byte fields little endian):
 *   offset 0          2 bytes   sync word 0xA5 0x5A
 *   offset 2          2 bytes   sequence number (uint16, +1 per frame, wraps)
 *   offset 4          2 bytes   sample count n (1 .. 128)
 *   offset 6          6 n bytes n samples of x, y, z int16 output codes (LSB)
 *   offset 6 + 6 n    2 bytes   CRC-16/CCITT-FALSE over bytes 2 .. 6 + 6 n
 *                               (poly 0x1021, init 0xFFFF, not reflected, no final XOR; check 0x29B1)
 */
#ifndef SYNTH_STREAM_FRAME_H
#define SYNTH_STREAM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define SYNTH_STREAM_SYNC0 0xA5u
#define SYNTH_STREAM_SYNC1 0x5Au
#define SYNTH_STREAM_HEADER_BYTES 6u
#define SYNTH_STREAM_CRC_BYTES 2u
#define SYNTH_STREAM_SAMPLE_BYTES 6u
#define SYNTH_STREAM_AXES 3u
#define SYNTH_STREAM_MAX_SAMPLES 128u
#define SYNTH_STREAM_MAX_FRAME_BYTES 776u
#define SYNTH_STREAM_FRAME_BYTES(n) (SYNTH_STREAM_HEADER_BYTES + (n) * SYNTH_STREAM_SAMPLE_BYTES + SYNTH_STREAM_CRC_BYTES)
#define SYNTH_STREAM_CRC_POLY 0x1021u
#define SYNTH_STREAM_CRC_INIT 0xFFFFu
#define SYNTH_STREAM_CRC_CHECK 0x29B1u
/* the decoder holds two maximal frames, so a frame that starts late in its buffer still fits */
#define SYNTH_STREAM_DECODER_BUFFER (2u * SYNTH_STREAM_MAX_FRAME_BYTES)

/* the CRC-16/CCITT-FALSE lookup table (256 entries) */
#define SYNTH_STREAM_CRC_TABLE_INIT \
    0x0000u, 0x1021u, 0x2042u, 0x3063u, 0x4084u, 0x50A5u, 0x60C6u, 0x70E7u, \
    0x8108u, 0x9129u, 0xA14Au, 0xB16Bu, 0xC18Cu, 0xD1ADu, 0xE1CEu, 0xF1EFu, \
    0x1231u, 0x0210u, 0x3273u, 0x2252u, 0x52B5u, 0x4294u, 0x72F7u, 0x62D6u, \
    0x9339u, 0x8318u, 0xB37Bu, 0xA35Au, 0xD3BDu, 0xC39Cu, 0xF3FFu, 0xE3DEu, \
    0x2462u, 0x3443u, 0x0420u, 0x1401u, 0x64E6u, 0x74C7u, 0x44A4u, 0x5485u, \
    0xA56Au, 0xB54Bu, 0x8528u, 0x9509u, 0xE5EEu, 0xF5CFu, 0xC5ACu, 0xD58Du, \
    0x3653u, 0x2672u, 0x1611u, 0x0630u, 0x76D7u, 0x66F6u, 0x5695u, 0x46B4u, \
    0xB75Bu, 0xA77Au, 0x9719u, 0x8738u, 0xF7DFu, 0xE7FEu, 0xD79Du, 0xC7BCu, \
    0x48C4u, 0x58E5u, 0x6886u, 0x78A7u, 0x0840u, 0x1861u, 0x2802u, 0x3823u, \
    0xC9CCu, 0xD9EDu, 0xE98Eu, 0xF9AFu, 0x8948u, 0x9969u, 0xA90Au, 0xB92Bu, \
    0x5AF5u, 0x4AD4u, 0x7AB7u, 0x6A96u, 0x1A71u, 0x0A50u, 0x3A33u, 0x2A12u, \
    0xDBFDu, 0xCBDCu, 0xFBBFu, 0xEB9Eu, 0x9B79u, 0x8B58u, 0xBB3Bu, 0xAB1Au, \
    0x6CA6u, 0x7C87u, 0x4CE4u, 0x5CC5u, 0x2C22u, 0x3C03u, 0x0C60u, 0x1C41u, \
    0xEDAEu, 0xFD8Fu, 0xCDECu, 0xDDCDu, 0xAD2Au, 0xBD0Bu, 0x8D68u, 0x9D49u, \
    0x7E97u, 0x6EB6u, 0x5ED5u, 0x4EF4u, 0x3E13u, 0x2E32u, 0x1E51u, 0x0E70u, \
    0xFF9Fu, 0xEFBEu, 0xDFDDu, 0xCFFCu, 0xBF1Bu, 0xAF3Au, 0x9F59u, 0x8F78u, \
    0x9188u, 0x81A9u, 0xB1CAu, 0xA1EBu, 0xD10Cu, 0xC12Du, 0xF14Eu, 0xE16Fu, \
    0x1080u, 0x00A1u, 0x30C2u, 0x20E3u, 0x5004u, 0x4025u, 0x7046u, 0x6067u, \
    0x83B9u, 0x9398u, 0xA3FBu, 0xB3DAu, 0xC33Du, 0xD31Cu, 0xE37Fu, 0xF35Eu, \
    0x02B1u, 0x1290u, 0x22F3u, 0x32D2u, 0x4235u, 0x5214u, 0x6277u, 0x7256u, \
    0xB5EAu, 0xA5CBu, 0x95A8u, 0x8589u, 0xF56Eu, 0xE54Fu, 0xD52Cu, 0xC50Du, \
    0x34E2u, 0x24C3u, 0x14A0u, 0x0481u, 0x7466u, 0x6447u, 0x5424u, 0x4405u, \
    0xA7DBu, 0xB7FAu, 0x8799u, 0x97B8u, 0xE75Fu, 0xF77Eu, 0xC71Du, 0xD73Cu, \
    0x26D3u, 0x36F2u, 0x0691u, 0x16B0u, 0x6657u, 0x7676u, 0x4615u, 0x5634u, \
    0xD94Cu, 0xC96Du, 0xF90Eu, 0xE92Fu, 0x99C8u, 0x89E9u, 0xB98Au, 0xA9ABu, \
    0x5844u, 0x4865u, 0x7806u, 0x6827u, 0x18C0u, 0x08E1u, 0x3882u, 0x28A3u, \
    0xCB7Du, 0xDB5Cu, 0xEB3Fu, 0xFB1Eu, 0x8BF9u, 0x9BD8u, 0xABBBu, 0xBB9Au, \
    0x4A75u, 0x5A54u, 0x6A37u, 0x7A16u, 0x0AF1u, 0x1AD0u, 0x2AB3u, 0x3A92u, \
    0xFD2Eu, 0xED0Fu, 0xDD6Cu, 0xCD4Du, 0xBDAAu, 0xAD8Bu, 0x9DE8u, 0x8DC9u, \
    0x7C26u, 0x6C07u, 0x5C64u, 0x4C45u, 0x3CA2u, 0x2C83u, 0x1CE0u, 0x0CC1u, \
    0xEF1Fu, 0xFF3Eu, 0xCF5Du, 0xDF7Cu, 0xAF9Bu, 0xBFBAu, 0x8FD9u, 0x9FF8u, \
    0x6E17u, 0x7E36u, 0x4E55u, 0x5E74u, 0x2E93u, 0x3EB2u, 0x0ED1u, 0x1EF0u

/* What a decoder has seen; the same counts as synth.stream.frame.FrameStats. */
typedef struct {
    uint32_t frames;        /* valid frames delivered */
    uint32_t samples;       /* samples in them */
    uint32_t lost;          /* frames missing from the sequence that no corrupted or partial frame explains */
    uint32_t corrupted;     /* bad CRC or sample count */
    uint32_t partial;       /* cut short: another frame began inside, or the stream ended */
    uint32_t duplicated;    /* same sequence number as the previous frame (dropped) */
    uint32_t garbage_bytes; /* bytes outside any frame */
    uint32_t missing;       /* frames absent from the sequence, whatever the reason */
} synth_stream_stats_t;

typedef struct {
    uint8_t buffer[SYNTH_STREAM_DECODER_BUFFER];
    size_t length;
    int have_last;
    uint16_t last_sequence;
    int16_t samples[SYNTH_STREAM_MAX_SAMPLES * SYNTH_STREAM_AXES];
    synth_stream_stats_t stats;
} synth_stream_decoder_t;

/* Called for every valid frame: xyz holds count samples of x, y, z (host byte order). */
typedef void (*synth_stream_frame_fn)(void *context, uint16_t sequence, const int16_t *xyz, uint16_t count);

uint16_t synth_stream_crc16(const uint8_t *data, size_t length);

/* Write one frame of count samples (xyz: 3 count int16) into out; returns its size, or 0 when
 * count is 0 or above SYNTH_STREAM_MAX_SAMPLES or the frame does not fit in capacity bytes. */
size_t synth_stream_encode(uint8_t *out, size_t capacity, uint16_t sequence, const int16_t *xyz, uint16_t count);

void synth_stream_decoder_init(synth_stream_decoder_t *decoder);

/* Feed received bytes (any chunk size); on_frame is called for each valid new frame. */
void synth_stream_decoder_feed(synth_stream_decoder_t *decoder, const uint8_t *data, size_t length,
                               synth_stream_frame_fn on_frame, void *context);

/* End of stream: an incomplete frame left over is counted partial. */
void synth_stream_decoder_finish(synth_stream_decoder_t *decoder, synth_stream_frame_fn on_frame, void *context);

#endif /* SYNTH_STREAM_FRAME_H */
