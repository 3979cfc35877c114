#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace tfreeze {

class PipelineSchedule;

// An aligned plain-text table for the CLI: headers carry the units, numbers are right-aligned so
// that their decimal points line up.
class TextTable {
public:
    enum class Align { Left, Right };

    void addColumn(std::string header, Align align = Align::Right);
    // Missing trailing cells print empty; extra cells are an error of ours (std::logic_error).
    void addRow(std::vector<std::string> cells);
    void print(std::ostream& out, const std::string& indent = {}) const;

private:
    struct Column {
        std::string header;
        Align align = Align::Right;
    };

    std::vector<Column> m_columns;
    std::vector<std::vector<std::string>> m_rows;
};

// The stages a rank holds, e.g. "0,7" for rank 0 of a 4-rank ZBV.
std::string rankStagesText(const PipelineSchedule& schedule, int rank);

// Fixed-point text of a value, e.g. formatFixed(27.25, 2) == "27.25".
std::string formatFixed(double value, int decimals);
// Scientific text with two significant decimals, e.g. "-3.1e-08".
std::string formatScientific(double value);

} // namespace tfreeze
