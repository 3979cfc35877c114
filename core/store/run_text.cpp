#include "core/store/run_text.h"

#include "core/plan/plan_error.h"
#include "core/plan/text_file.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>

namespace tfreeze {

namespace {

// C0 and C1 controls and DEL, and the Unicode line and paragraph separators, which break a line
// as a newline does.
bool isControl(std::uint32_t value)
{
    return value < 0x20 || (value >= 0x7F && value <= 0x9F) || value == 0x2028 || value == 0x2029;
}

bool isWhiteSpace(std::uint32_t value)
{
    return value == ' ' || value == 0xA0 || value == 0x1680 || (value >= 0x2000 && value <= 0x200B) || value == 0x202F
        || value == 0x205F || value == 0x3000 || value == 0xFEFF;
}

std::string hexByte(unsigned char byte)
{
    std::array<char, 8> text {};
    std::snprintf(text.data(), text.size(), "0x%02X", static_cast<unsigned>(byte));
    return text.data();
}

std::string controlText(std::uint32_t value)
{
    std::array<char, 16> code {};
    std::snprintf(code.data(), code.size(), "U+%04X", static_cast<unsigned>(value));
    std::string text = std::string("control character ") + code.data();
    if (value == '\n')
        text += " (a line break)";
    else if (value == '\r')
        text += " (a carriage return)";
    else if (value == 0x2028 || value == 0x2029)
        text += " (a line or paragraph separator)";
    else if (value == '\t')
        text += " (a tab)";
    else if (value == 0x1B)
        text += " (escape)";
    return text;
}

// Walks `text` and throws for the first invalid byte or refused control character; returns true
// when every character is white space (an empty text included).
bool checkCharacters(const std::string& text, const char* source, bool allowLineBreaks)
{
    bool blank = true;
    for (std::size_t at = 0; at < text.size();) {
        const std::optional<Utf8CodePoint> point = decodeUtf8At(text, at);
        if (!point)
            throw InputError(source, "",
                "not valid UTF-8: byte " + hexByte(static_cast<unsigned char>(text[at])) + " at offset "
                    + std::to_string(at));
        const bool allowed = allowLineBreaks && (point->value == '\n' || point->value == '\t');
        if (isControl(point->value) && !allowed)
            throw InputError(source, "",
                controlText(point->value) + " at offset " + std::to_string(at)
                    + (allowLineBreaks ? ": notes may hold line breaks and tabs, no other control characters"
                                       : ": a name is one line of printable text"));
        blank = blank && (isWhiteSpace(point->value) || allowed);
        at += point->length;
    }
    return blank;
}

} // namespace

void checkRunName(const std::string& name)
{
    if (checkCharacters(name, "run name", false))
        throw InputError("run name", "",
            name.empty() ? "is empty: a run keeps a name to find it by"
                         : "is only white space: a run keeps a name to find it by");
}

void checkRunNotes(const std::string& notes) { checkCharacters(notes, "run notes", true); }

} // namespace tfreeze
