#pragma once

#include <cstddef>
#include <string>

namespace tfreeze {

// True when `bytes` begins with gzip's magic number (1f 8b): how a trace import tells a
// compressed file from plain JSON, whatever its name ends with.
bool hasGzipMagic(const std::string& bytes);

// The decompressed content of a gzip file (one or more members, as `cat a.gz b.gz` makes).
// Throws InputError(source, "", ...) for a truncated or corrupt stream ("truncated gzip data: ...",
// "corrupt gzip data: ..." with a CRC mismatch named as such, "damaged gzip header: ..." for a
// header zlib refuses or one whose flags declare fields that run past the end), and for an output longer
// than `maxBytes` (a small file can expand a thousandfold: a limit keeps that from exhausting memory).
std::string gunzip(const std::string& bytes, const std::string& source, std::size_t maxBytes);

// `text` as one gzip member (default compression level).
std::string gzip(const std::string& text);

} // namespace tfreeze
