#include "app/tfreeze/command_set.h"

#include <CLI/CLI.hpp>

#include <algorithm>

namespace tfreeze {

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

} // namespace tfreeze
