#include "core/export/gzip_stream.h"

#include "core/plan/plan_error.h"

#include <zlib.h>

#include <algorithm>
#include <array>
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
    if (stream.msg != nullptr)
        return stream.msg;
    return "zlib error " + std::to_string(code);
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
            inflateReset(&stream);
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
            throw InputError(source, "", "corrupt gzip data: " + zlibReason(stream, code));
    }
    if (!memberEnded)
        throw InputError(source, "",
            "truncated gzip data: the stream ends after " + std::to_string(bytes.size())
                + " bytes, before its end marker");
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
