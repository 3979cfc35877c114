#pragma once

// The telemetry and planning structs travel through queued signals between the engine's, the
// planner's and the GUI's threads: declared once here as Qt metatypes.

#include "core/engine/training_session.h"
#include "core/plan/freeze_plan.h"
#include "core/plan/telemetry.h"
#include "ui/telemetry_buffer.h"

#include <QMetaType>

#include <memory>
#include <vector>

Q_DECLARE_METATYPE(tfreeze::StepStats)
Q_DECLARE_METATYPE(tfreeze::EvalStats)
Q_DECLARE_METATYPE(tfreeze::ActionSpan)
Q_DECLARE_METATYPE(tfreeze::PlanApplied)
Q_DECLARE_METATYPE(tfreeze::RunEvent)
Q_DECLARE_METATYPE(tfreeze::FreezeBounds)
Q_DECLARE_METATYPE(std::shared_ptr<const tfreeze::FreezePlan>)
Q_DECLARE_METATYPE(std::vector<tfreeze::ActionSpan>)
Q_DECLARE_METATYPE(std::vector<tfreeze::StepStats>)
Q_DECLARE_METATYPE(tfreeze::TelemetryBatch)
Q_DECLARE_METATYPE(tfreeze::TrainingOutcome)

namespace tfreeze {

// Registers the types above for queued connections; idempotent, call before connecting.
void registerTelemetryMetaTypes();

} // namespace tfreeze
