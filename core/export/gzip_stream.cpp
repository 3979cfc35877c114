#include "core/export/gzip_stream.h"

#include "core/plan/plan_error.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <stdexcept>

namespace tfreeze {

namespace {

// zlib counts in uInt: feed at most this much per call so that large inputs need no special case.
constexpr std::size_t kChunk = std::size_t { 1 } << 20U;
constexpr std::size_t kBufferBytes = std::size_t { 64 } * 1024;

unsigned int chunkOf(std::size_t remaining) { return static_cast<unsigned int>(std::min(remaining, kChunk)); }

// Ends the z_stream however the function leaves, exceptions included.
class InflateGuard {
public:
    explicit InflateGuard(z_stream& stream)
        : m_stream(stream)
    {
    }
    InflateGuard(const InflateGuard&) = delete;
    InflateGuard& operator=(const InflateGuard&) = delete;
    InflateGuard(InflateGuard&&) = delete;
    InflateGuard& operator=(InflateGuard&&) = delete;
    ~InflateGuard() { inflateEnd(&m_stream); }

private:
    z_stream& m_stream;
};

std::string zlibReason(const z_stream& stream, int code)
{
    if (stream.msg == nullptr)
        return "zlib error " + std::to_string(code);
    std::string message = stream.msg;
    // The trailer's checks: the data decoded, but not to what was compressed.
    if (message == "incorrect data check")
        return message + " (the content's CRC-32 differs from the one the file stores: the data is damaged)";
    if (message == "incorrect length check")
        return message + " (the content's length differs from the one the file stores: the data is damaged)";
    return message;
}

// gzip's header flags (RFC 1952, FLG): the optional fields a damaged flag byte can invent.
constexpr unsigned kFlagHeaderCrc = 0x02;
constexpr unsigned kFlagExtra = 0x04;
constexpr unsigned kFlagName = 0x08;
constexpr unsigned kFlagComment = 0x10;

// What the header of the member at `start` declares, for a header that never ends: "flags 0x0C:
// an extra field of 47116 bytes, a file name".
std::string declaredHeaderFields(const std::string& bytes, std::size_t start)
{
    constexpr std::size_t kFlagOffset = 3;
    constexpr std::size_t kExtraLengthOffset = 10;
    if (bytes.size() <= start + kFlagOffset)
        return "a header of 10 bytes";
    const auto flags = static_cast<unsigned char>(bytes[start + kFlagOffset]);
    std::array<char, 8> hex {};
    std::snprintf(hex.data(), hex.size(), "0x%02X", static_cast<unsigned>(flags));
    std::string text = std::string("flags ") + hex.data() + ":";
    if ((flags & kFlagExtra) != 0U) {
        text += " an extra field";
        if (bytes.size() > start + kExtraLengthOffset + 1)
            text += " of "
                + std::to_string(static_cast<unsigned char>(bytes[start + kExtraLengthOffset])
                    | static_cast<unsigned>(static_cast<unsigned char>(bytes[start + kExtraLengthOffset + 1]) << 8U))
                + " bytes,";
    }
    if ((flags & kFlagName) != 0U)
        text += " a file name,";
    if ((flags & kFlagComment) != 0U)
        text += " a comment,";
    if ((flags & kFlagHeaderCrc) != 0U)
        text += " a header CRC,";
    if (text.back() == ':')
        return text + " no optional field";
    text.pop_back();
    return text;
}

// The end of the input came before the end marker of the member at `memberStart`: inside its
// header (whose flags may declare fields longer than the file) or inside its data.
std::string endedEarlyReason(const std::string& bytes, std::size_t memberStart, const gz_header& header)
{
    if (header.done != 1)
        return "damaged gzip header or a file cut off inside it: the header at offset " + std::to_string(memberStart)
            + " does not end within the file's " + std::to_string(bytes.size()) + " bytes ("
            + declaredHeaderFields(bytes, memberStart) + ")";
    return "truncated gzip data: the stream ends after " + std::to_string(bytes.size())
        + " bytes, before its end marker";
}

// A header zlib refused (unknown method or flags, a header CRC that does not match) is a damaged
// header; anything after it is damaged data.
std::string corruptReason(const z_stream& stream, int code, const gz_header& header)
{
    return std::string(header.done == 1 ? "corrupt gzip data: " : "damaged gzip header: ") + zlibReason(stream, code);
}

} // namespace

bool hasGzipMagic(const std::string& bytes)
{
    return bytes.size() >= 2 && static_cast<unsigned char>(bytes[0]) == 0x1FU
        && static_cast<unsigned char>(bytes[1]) == 0x8BU;
}

std::string gunzip(const std::string& bytes, const std::string& source, std::size_t maxBytes)
{
    z_stream stream {};
    // 16 + MAX_WBITS: a gzip wrapper only (not raw deflate, not zlib), so the magic test is the truth.
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
        throw std::runtime_error("gunzip: cannot initialise zlib");
    const InflateGuard guard(stream);
    // Tells a header that never ends or that zlib refuses (a damaged header) from damaged data.
    gz_header header {};
    inflateGetHeader(&stream, &header);
    std::size_t memberStart = 0;

    std::string out;
    std::array<char, kBufferBytes> buffer {};
    std::size_t consumed = 0;
    // zlib's API takes a non-const pointer to the input but never writes through it.
    auto* input = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
    bool memberEnded = false;
    while (true) {
        if (stream.avail_in == 0 && consumed < bytes.size()) {
            stream.next_in = input + consumed;
            stream.avail_in = chunkOf(bytes.size() - consumed);
            consumed += stream.avail_in;
        }
        stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
        stream.avail_out = static_cast<unsigned int>(buffer.size());
        const int code = inflate(&stream, Z_NO_FLUSH);
        const std::size_t produced = buffer.size() - stream.avail_out;
        if (out.size() + produced > maxBytes)
            throw InputError(
                source, "", "gzip content is larger than " + std::to_string(maxBytes) + " bytes; not reading it");
        out.append(buffer.data(), produced);
        if (code == Z_STREAM_END) {
            memberEnded = true;
            // Another member may follow (concatenated .gz files); trailing zero padding is allowed too.
            const std::size_t rest = stream.avail_in + (bytes.size() - consumed);
            const std::size_t at = bytes.size() - rest;
            if (rest == 0 || bytes.find_first_not_of('\0', at) == std::string::npos)
                break;
            if (!hasGzipMagic(bytes.substr(at, 2)))
                throw InputError(source, "",
                    "unexpected bytes after the end of the gzip stream (offset " + std::to_string(at) + ")");
            inflateReset(&stream); // forgets the header record: ask for the next member's
            header = gz_header {};
            inflateGetHeader(&stream, &header);
            memberStart = at;
            memberEnded = false;
            continue;
        }
        if (code == Z_BUF_ERROR) {
            // No progress without more input: at the end of the file, the stream was cut short.
            if (stream.avail_in == 0 && consumed == bytes.size())
                break;
            continue;
        }
        if (code != Z_OK)
            throw InputError(source, "", corruptReason(stream, code, header));
    }
    if (!memberEnded)
        throw InputError(source, "", endedEarlyReason(bytes, memberStart, header));
    return out;
}

std::string gzip(const std::string& text)
{
    z_stream stream {};
    // 16 + MAX_WBITS: write a gzip header and trailer, not a zlib one.
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("gzip: cannot initialise zlib");
    std::string out;
    std::array<char, kBufferBytes> buffer {};
    auto* input = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
    std::size_t consumed = 0;
    int code = Z_OK;
    do {
        if (stream.avail_in == 0 && consumed < text.size()) {
            stream.next_in = input + consumed;
            stream.avail_in = chunkOf(text.size() - consumed);
            consumed += stream.avail_in;
        }
        const int flush = consumed == text.size() ? Z_FINISH : Z_NO_FLUSH;
        stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
        stream.avail_out = static_cast<unsigned int>(buffer.size());
        code = deflate(&stream, flush);
        out.append(buffer.data(), buffer.size() - stream.avail_out);
    } while (code != Z_STREAM_END && code != Z_STREAM_ERROR);
    deflateEnd(&stream);
    if (code != Z_STREAM_END)
        throw std::runtime_error("gzip: deflate failed");
    return out;
}

} // namespace tfreeze
