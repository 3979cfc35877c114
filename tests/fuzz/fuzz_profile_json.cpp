// libFuzzer target for readProfileJson (tfreeze-profile/1). Invariants:
// - the reader returns a Profile or throws InputError whose what() starts with the source name;
//   any other exception type, a crash or a sanitizer report is a finding;
// - a parsed profile written with writeProfileJson reads back to an equal profile (shape, rank
//   orders, costs: exactly);
// - a parsed profile builds a PipelineDag or throws InputError (a deadlocking order).

#include "fuzz_common.h"

#include "core/plan/profile_io.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <sstream>

using namespace tfreeze;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    std::optional<Profile> profile;
    const bool parsed = fuzz::inputErrorOr("readProfileJson", fuzz::kSource, [&] {
        std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
        profile.emplace(readProfileJson(in, fuzz::kSource));
    });
    if (!parsed)
        return 0;

    std::ostringstream out;
    writeProfileJson(*profile, out);
    const std::string written = out.str();
    const std::string again = "round-trip.json";
    std::optional<Profile> reread;
    try {
        std::istringstream in(written);
        reread.emplace(readProfileJson(in, again));
    } catch (const std::exception& error) {
        fuzz::finding("a written profile does not read back", std::string(error.what()) + "\n" + written);
    }
    fuzz::requireEqualProfiles(*profile, *reread, "profile");

    fuzz::checkDag(*profile, fuzz::kSource);
    return 0;
}
