#include "core/plan/text_file.h"

#include "core/plan/plan_error.h"

#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace tfreeze {

namespace {

std::string reason(int fallback) { return std::strerror(errno != 0 ? errno : fallback); }

InputError tooLarge(const std::string& path, std::size_t maxBytes)
{
    const bool mebibytes = maxBytes % (std::size_t { 1 } << 20) == 0;
    return { path, "",
        "larger than " + std::to_string(mebibytes ? maxBytes >> 20 : maxBytes) + (mebibytes ? " MiB" : " bytes")
            + "; not read" };
}

// Before the open: opening a FIFO waits for its writer, and a device may never end. What stat
// cannot see (a missing file) is left to the open, which says why.
void refuseUnreadable(const std::string& path, std::size_t maxBytes)
{
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (error)
        return;
    if (fs::is_directory(status))
        throw InputError(path, "", std::string("cannot read file: ") + std::strerror(EISDIR));
    if (fs::is_character_file(status) || fs::is_block_file(status) || fs::is_socket(status))
        throw InputError(path, "", "not a file but " + fileKindText(status.type()));
    if (fs::is_regular_file(status) && fs::file_size(path, error) > maxBytes && !error)
        throw tooLarge(path, maxBytes);
}

} // namespace

std::string fileKindText(std::filesystem::file_type type)
{
    using std::filesystem::file_type;
    switch (type) {
    case file_type::character:
        return "a character device";
    case file_type::block:
        return "a block device";
    case file_type::fifo:
        return "a FIFO (named pipe)";
    case file_type::socket:
        return "a socket";
    default:
        return "not a regular file";
    }
}

std::string readTextFile(const std::string& path, std::size_t maxBytes)
{
    refuseUnreadable(path, maxBytes);
    errno = 0;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(path, "", "cannot open file: " + reason(ENOENT));
    std::string text;
    std::array<char, 1 << 16> chunk {};
    // A pipe's size is not known ahead: counted as it comes.
    while (in.read(chunk.data(), chunk.size()) || in.gcount() > 0) {
        text.append(chunk.data(), static_cast<std::size_t>(in.gcount()));
        if (text.size() > maxBytes)
            throw tooLarge(path, maxBytes);
    }
    if (in.bad())
        throw InputError(path, "", "cannot read file: " + reason(EIO));
    return text;
}

void writeTextFile(const std::string& path, std::string_view text)
{
    errno = 0;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (out)
        out << text;
    if (out)
        out.close();
    if (!out)
        throw InputError(path, "", "cannot write file: " + reason(EIO));
}

void checkWritableFile(const std::string& path)
{
    namespace fs = std::filesystem;
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    int failure = 0;
    if (fs::is_directory(status)) {
        failure = EISDIR;
    } else if (fs::exists(status)) {
        failure = ::access(path.c_str(), W_OK) == 0 ? 0 : errno;
    } else {
        // A new file needs a folder that exists and that we may add to.
        const fs::path folder = fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path();
        if (fs::exists(folder, error) && !fs::is_directory(folder, error))
            failure = ENOTDIR;
        else if (::access(folder.c_str(), W_OK | X_OK) != 0)
            failure = errno;
    }
    if (failure != 0)
        throw InputError(path, "", std::string("cannot write file: ") + std::strerror(failure));
}

std::optional<Utf8CodePoint> decodeUtf8At(std::string_view text, std::size_t at)
{
    const auto lead = static_cast<unsigned char>(text[at]);
    if (lead < 0x80U)
        return Utf8CodePoint { lead, 1 };
    const std::size_t length = (lead & 0xE0U) == 0xC0U ? 2
        : (lead & 0xF0U) == 0xE0U                      ? 3
        : (lead & 0xF8U) == 0xF0U                      ? 4
                                                       : 0;
    if (length == 0 || at + length > text.size())
        return std::nullopt;
    std::uint32_t code = lead & (0x7FU >> length);
    for (std::size_t k = 1; k < length; ++k) {
        const auto next = static_cast<unsigned char>(text[at + k]);
        if ((next & 0xC0U) != 0x80U)
            return std::nullopt;
        code = (code << 6U) | (next & 0x3FU);
    }
    // The smallest code point that needs each length: anything below is an overlong form.
    static constexpr std::array<std::uint32_t, 5> kMinimum { 0, 0, 0x80U, 0x800U, 0x10000U };
    const bool surrogate = code >= 0xD800U && code <= 0xDFFFU;
    if (code < kMinimum[length] || code > 0x10FFFFU || surrogate)
        return std::nullopt;
    return Utf8CodePoint { code, length };
}

std::string printableText(std::string_view text, std::size_t limitBytes)
{
    static constexpr std::string_view kHex = "0123456789ABCDEF";
    std::string result;
    for (std::size_t i = 0; i < text.size();) {
        if (result.size() >= limitBytes) {
            result += "...";
            break;
        }
        const std::optional<Utf8CodePoint> character = decodeUtf8At(text, i);
        if (!character) {
            const auto byte = static_cast<unsigned char>(text[i++]);
            result += "\\x";
            result += kHex[byte >> 4U];
            result += kHex[byte & 0xFU];
        } else {
            result.append(text.substr(i, character->length));
            i += character->length;
        }
    }
    return result;
}

std::string jsonErrorText(const std::exception& error)
{
    const std::string message = printableText(error.what());
    const std::size_t prefixEnd = message.find("] ");
    return prefixEnd == std::string::npos ? message : message.substr(prefixEnd + 2);
}

} // namespace tfreeze
