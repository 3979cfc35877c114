#pragma once

// The files a user names (profiles, plans, bases, run configs, traces, corpora), read and written
// alike everywhere, and their bytes quoted in messages safely. In core/plan, the lowest layer,
// beside InputError, so that the engine and the exporters share one copy.

#include <cstddef>
#include <cstdint>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <string_view>

namespace tfreeze {

// The most readTextFile reads by default: far above any profile, plan or config (a 16,384-action
// profile is about 2 MB), and a bound on what a FIFO that never ends can take.
inline constexpr std::size_t kMaxTextFileBytes = std::size_t { 1 } << 30;

// The whole file: a regular file or a pipe (`<(gunzip -c profile.json.gz)`). Throws
// InputError(path, "", "cannot open file: <reason>"), "cannot read file: <reason>", for a device or
// a socket "not a file but a <kind>" (/dev/zero would never end, a terminal would wait for typing),
// and past maxBytes "larger than <maxBytes>; not read".
std::string readTextFile(const std::string& path, std::size_t maxBytes = kMaxTextFileBytes);

// "a character device", "a FIFO (named pipe)", ...: what a path that is neither a folder nor a
// regular file is, for messages.
std::string fileKindText(std::filesystem::file_type type);

// Replaces the file with `text`. Throws InputError(path, "", "cannot write file: <reason>").
void writeTextFile(const std::string& path, std::string_view text);

// Throws what writeTextFile would for a file it cannot create or replace (a missing folder, a
// folder named as the file, no permission), without writing anything: for a command that checks
// every output before its long work, so that failing leaves nothing behind.
void checkWritableFile(const std::string& path);

// One character of UTF-8 text: its code point and the bytes it takes.
struct Utf8CodePoint {
    std::uint32_t value = 0;
    std::size_t length = 0;
};
// The character that starts at text[at]; nothing when the bytes there are not a well-formed UTF-8
// sequence (a stray continuation byte, a truncated or overlong sequence, a surrogate, past
// U+10FFFF).
std::optional<Utf8CodePoint> decodeUtf8At(std::string_view text, std::size_t at);

// `text` for a terminal or a Qt widget: every byte outside a well-formed UTF-8 sequence (a stray
// continuation byte, a truncated or overlong sequence, a surrogate, past U+10FFFF) written as
// \xNN; past `limitBytes` of output, cut on a character boundary and ended with "...".
std::string printableText(std::string_view text, std::size_t limitBytes = std::numeric_limits<std::size_t>::max());

// A JSON parser's message, printable, without nlohmann's "[json.exception.parse_error.101] "
// prefix. nlohmann quotes the last bytes it read, ill-formed UTF-8 included (found by fuzzing).
std::string jsonErrorText(const std::exception& error);

} // namespace tfreeze
