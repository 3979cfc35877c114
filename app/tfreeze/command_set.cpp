#include "app/tfreeze/command_set.h"

#include <CLI/CLI.hpp>

#include <algorithm>

namespace tfreeze {

namespace {

std::string commandNames(const CLI::App& app)
{
    std::string names;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
        names += (names.empty() ? "" : ", ") + sub->get_name();
    return names;
}

} // namespace

CommandSet::CommandSet(CLI::App& app)
    : m_app(app)
{
}

CLI::App& CommandSet::group(const std::string& name, const std::string& description)
{
    auto found = m_groups.find(name);
    if (found != m_groups.end())
        return *found->second;
    CLI::App* group = m_app.add_subcommand(name, description);
    group->require_subcommand(1);
    m_groups.emplace(name, group);
    return *group;
}

void CommandSet::add(CLI::App* command, std::function<void()> work)
{
    m_commands.emplace_back(command, std::move(work));
}

bool CommandSet::runParsed() const
{
    const auto parsed
        = std::find_if(m_commands.begin(), m_commands.end(), [](const auto& entry) { return entry.first->parsed(); });
    if (parsed == m_commands.end())
        return false;
    parsed->second();
    return true;
}

std::string CommandSet::unknownCommandMessage(int argc, const char* const* argv) const
{
    const CLI::App* current = &m_app;
    std::string path = m_app.get_name();
    for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word.empty() || word.front() == '-')
            return {}; // an option: the words after it may be its values
        const auto named = current->get_subcommands([&word](const CLI::App* sub) { return sub->check_name(word); });
        if (!named.empty()) {
            current = named.front();
            path.append(" ").append(current->get_name());
            continue;
        }
        if (current->get_require_subcommand_min() == 0)
            return {}; // a command that takes positional arguments
        std::string message = "\"" + word;
        message.append("\" is not a command of ").append(path).append(" (its commands: ");
        return message.append(commandNames(*current)).append(")");
    }
    if (current->get_require_subcommand_min() == 0)
        return {};
    return path + " needs a subcommand: " + commandNames(*current);
}

} // namespace tfreeze
