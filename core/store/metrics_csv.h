#pragma once

#include "core/plan/telemetry.h"

#include <iosfwd>
#include <string>
#include <vector>

namespace tfreeze {

// One row per step (and per eval at a step without stats):
// step,loss,val_loss,tokens_per_s,batch_ms,bubble,phase,lr
// val_loss is empty on steps without an eval; loss and the step figures are empty on an eval-only row.
void writeMetricsCsv(const std::vector<StepStats>& steps, const std::vector<EvalStats>& evals, std::ostream& out);

// The same into the file at `path`, replacing it. Throws InputError(path, "", "cannot write file: <reason>").
void writeMetricsCsvFile(
    const std::vector<StepStats>& steps, const std::vector<EvalStats>& evals, const std::string& path);

} // namespace tfreeze
