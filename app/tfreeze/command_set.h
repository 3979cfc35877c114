#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
}

namespace tfreeze {

// The subcommands of tfreeze. Each area of the tool (planning, run history, traces, training)
// registers its commands here with the work to do once one of them was parsed, so main() does not
// grow with every command. Work reports failures as exceptions: InputError for bad input (exit
// code 2), anything else for our own failures (exit code 1).
// The `bench` group's description, for each area that adds a benchmark to it.
inline constexpr const char* kBenchGroupDescription = "Measure the speed of parts of tfreeze";

class CommandSet {
public:
    explicit CommandSet(CLI::App& app);

    CLI::App& app() { return m_app; }
    // A command group such as "bench", "runs", "export" or "import", created on first use; a group
    // requires one of its subcommands.
    CLI::App& group(const std::string& name, const std::string& description);

    void add(CLI::App* command, std::function<void()> work);

    // Options that must outlive the parse: the work lambda keeps them alive.
    template <typename Options> static std::shared_ptr<Options> makeOptions() { return std::make_shared<Options>(); }

    // Runs the work of the parsed command; false when none was parsed.
    bool runParsed() const;

    // When the command line names a command that does not exist ("tfreeze bogus", "tfreeze runs
    // bogus"), the message for it with the commands there are; empty otherwise. CLI11 itself only
    // says "A subcommand is required", which does not say what was wrong with the word typed.
    std::string unknownCommandMessage(int argc, const char* const* argv) const;

private:
    CLI::App& m_app;
    std::map<std::string, CLI::App*> m_groups;
    std::vector<std::pair<CLI::App*, std::function<void()>>> m_commands;
};

// The commands of each area, defined beside their work.
void addPlanningCommands(CommandSet& commands); // simulate, plan, bench plan
void addStoreCommands(CommandSet& commands); // runs list|show|delete|compare, export plan|metrics, bench store
void addTraceCommands(CommandSet& commands); // import trace

} // namespace tfreeze
