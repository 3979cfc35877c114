#include "ui/telemetry_metatypes.h"

namespace tfreeze {

void registerTelemetryMetaTypes()
{
    qRegisterMetaType<StepStats>();
    qRegisterMetaType<EvalStats>();
    qRegisterMetaType<ActionSpan>();
    qRegisterMetaType<PlanApplied>();
    qRegisterMetaType<RunEvent>();
    qRegisterMetaType<FreezeBounds>();
    qRegisterMetaType<std::shared_ptr<const FreezePlan>>();
    qRegisterMetaType<std::vector<ActionSpan>>();
    qRegisterMetaType<std::vector<StepStats>>();
    qRegisterMetaType<TelemetryBatch>();
    qRegisterMetaType<TrainingOutcome>();
}

} // namespace tfreeze
