#include "app/tfreeze/engine_commands.h"

#include "app/tfreeze/command_set.h"

#include <CLI/CLI.hpp>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <unistd.h>

namespace tfreeze {

namespace {

constexpr const char* kEngineExecutable = "tfreeze-engine";

std::string directoryOfThisExecutable()
{
    std::string path(4096, '\0');
    const ssize_t length = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
    if (length <= 0)
        return {};
    path.resize(static_cast<std::size_t>(length));
    const std::size_t slash = path.rfind('/');
    return slash == std::string::npos ? std::string {} : path.substr(0, slash);
}

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

std::string execEngine(const EngineCommand& command, char** argv)
{
    const std::string directory = directoryOfThisExecutable();
    if (directory.empty())
        return "cannot find the tfreeze executable's directory (/proc/self/exe)";
    const std::string engine = directory + "/" + kEngineExecutable;
    ::execv(engine.c_str(), argv);
    const int error = errno;
    const std::string name = std::string_view(command.group).empty() ? std::string(command.name)
                                                                     : std::string(command.group) + " " + command.name;
    return name + " runs in " + kEngineExecutable + ", which could not be started from " + engine + ": "
        + std::strerror(error)
        + (error == ENOENT ? " (build the CMake target tfreeze-engine, or configure with -DTFREEZE_ENGINE=ON)" : "");
}

void addEngineCommandEntries(CommandSet& commands)
{
    for (const EngineCommand& command : kEngineCommands) {
        CLI::App& parent = std::string_view(command.group).empty()
            ? commands.app()
            : commands.group(command.group, "Measure the speed of parts of tfreeze");
        CLI::App* entry = parent.add_subcommand(command.name, command.description);
        entry->allow_extras();
    }
}

} // namespace tfreeze
