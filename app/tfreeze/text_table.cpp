#include "app/tfreeze/text_table.h"

#include "core/plan/pipeline_schedule.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <iomanip>
#include <locale>
#include <ostream>
#include <sstream>
#include <stdexcept>

namespace tfreeze {

void TextTable::addColumn(std::string header, Align align) { m_columns.push_back({ std::move(header), align }); }

void TextTable::addRow(std::vector<std::string> cells)
{
    if (cells.size() > m_columns.size())
        throw std::logic_error("TextTable: row has more cells than the table has columns");
    cells.resize(m_columns.size());
    m_rows.push_back(std::move(cells));
}

void TextTable::print(std::ostream& out, const std::string& indent) const
{
    std::vector<std::size_t> widths(m_columns.size());
    for (std::size_t c = 0; c < m_columns.size(); ++c) {
        widths[c] = m_columns[c].header.size();
        for (const auto& row : m_rows)
            widths[c] = std::max(widths[c], row[c].size());
    }
    const auto printLine = [&](auto cellText) {
        std::string line = indent;
        for (std::size_t c = 0; c < m_columns.size(); ++c) {
            const std::string& text = cellText(c);
            const std::string padding(widths[c] - text.size(), ' ');
            if (c > 0)
                line += "  ";
            line += m_columns[c].align == Align::Right ? padding + text : text + padding;
        }
        // Left-aligned last columns would leave trailing blanks that diff tools flag.
        line.erase(line.find_last_not_of(' ') + 1);
        out << line << '\n';
    };
    printLine([&](std::size_t c) -> const std::string& { return m_columns[c].header; });
    for (const auto& row : m_rows)
        printLine([&](std::size_t c) -> const std::string& { return row[c]; });
}

std::string formatFixed(double value, int decimals)
{
    std::array<char, 64> buffer {};
    std::snprintf(buffer.data(), buffer.size(), "%.*f", decimals, value);
    return buffer.data();
}

std::string formatScientific(double value)
{
    std::ostringstream text;
    text.imbue(std::locale::classic());
    text << std::scientific << std::setprecision(1) << value;
    return text.str();
}

std::string rankStagesText(const PipelineSchedule& schedule, int rank)
{
    std::string text;
    for (int stage = 0; stage < schedule.stageCount(); ++stage) {
        if (schedule.stageRank(stage) != rank)
            continue;
        if (!text.empty())
            text += ',';
        text += std::to_string(stage);
    }
    return text;
}

} // namespace tfreeze
