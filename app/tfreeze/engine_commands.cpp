#include "app/tfreeze/engine_commands.h"

#include "app/tfreeze/command_set.h"
#include "app/tfreeze/launch_commands.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string_view>
#include <unistd.h>

namespace tfreeze {

namespace {

constexpr const char* kEngineExecutable = "tfreeze-engine";

} // namespace

const EngineCommand* findEngineCommand(int argc, char** argv)
{
    for (const EngineCommand& command : kEngineCommands) {
        const std::string_view group = command.group;
        if (group.empty() ? argc > 1 && argv[1] == std::string_view(command.name)
                          : argc > 2 && argv[1] == group && argv[2] == std::string_view(command.name))
            return &command;
    }
    return nullptr;
}

std::string commandText(const EngineCommand& command)
{
    return std::string_view(command.group).empty() ? std::string(command.name)
                                                   : std::string(command.group) + " " + command.name;
}

std::string execEngine(const EngineCommand& command, char** argv)
{
    std::string self;
    try {
        self = selfPath();
    } catch (const std::runtime_error& error) {
        return error.what();
    }
    const std::string engine = self.substr(0, self.rfind('/') + 1) + kEngineExecutable;
    ::execv(engine.c_str(), argv);
    const int error = errno;
    return commandText(command) + " runs in " + kEngineExecutable + ", which could not be started from " + engine + ": "
        + std::strerror(error)
        + (error == ENOENT ? " (build the CMake target tfreeze-engine, or configure with -DTFREEZE_ENGINE=ON)" : "");
}

void addEngineCommandEntries(CommandSet& commands)
{
    for (const EngineCommand& command : kEngineCommands) {
        // Of the groups, only bench has engine commands.
        CLI::App& parent = std::string_view(command.group).empty()
            ? commands.app()
            : commands.group(command.group, kBenchGroupDescription);
        CLI::App* entry = parent.add_subcommand(command.name, command.description);
        entry->allow_extras();
    }
}

} // namespace tfreeze
