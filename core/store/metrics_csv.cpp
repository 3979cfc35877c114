#include "core/store/metrics_csv.h"

#include "core/plan/text_file.h"

#include <iomanip>
#include <limits>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

namespace tfreeze {

void writeMetricsCsv(const std::vector<StepStats>& steps, const std::vector<EvalStats>& evals, std::ostream& out)
{
    std::map<std::int64_t, const StepStats*> stepRows;
    std::map<std::int64_t, const EvalStats*> evalRows;
    for (const StepStats& step : steps)
        stepRows[step.step] = &step;
    for (const EvalStats& eval : evals)
        evalRows[eval.step] = &eval;
    std::set<std::int64_t> allSteps;
    for (const auto& row : stepRows)
        allSteps.insert(row.first);
    for (const auto& row : evalRows)
        allSteps.insert(row.first);

    const auto precision = out.precision(std::numeric_limits<double>::max_digits10);
    out << "step,loss,val_loss,tokens_per_s,batch_ms,bubble,phase,lr\n";
    for (const std::int64_t step : allSteps) {
        const auto stepRow = stepRows.find(step);
        const auto evalRow = evalRows.find(step);
        const StepStats* stats = stepRow != stepRows.end() ? stepRow->second : nullptr;
        out << step << ',';
        if (stats != nullptr)
            out << stats->loss;
        out << ',';
        if (evalRow != evalRows.end())
            out << evalRow->second->validationLoss;
        out << ',';
        if (stats != nullptr)
            out << stats->tokensPerSecond << ',' << stats->batchMs << ',' << stats->bubbleFraction << ','
                << trainingPhaseName(stats->phase) << ',' << stats->learningRate;
        else
            out << ",,,,";
        out << '\n';
    }
    out.precision(precision);
}

void writeMetricsCsvFile(
    const std::vector<StepStats>& steps, const std::vector<EvalStats>& evals, const std::string& path)
{
    std::ostringstream csv;
    writeMetricsCsv(steps, evals, csv);
    writeTextFile(path, csv.str());
}

} // namespace tfreeze
