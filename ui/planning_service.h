#pragma once

#include "core/plan/freeze_plan.h"
#include "core/plan/freeze_planner.h"
#include "ui/queued_call_receiver.h"
#include "ui/serial_executor.h"
#include "ui/telemetry_metatypes.h" // before any signal uses these types

#include <QList>
#include <QObject>
#include <QPointF>
#include <QString>

#include <memory>

namespace tfreeze {

// Plans off the GUI thread. A FreezePlanner is not thread-safe and keeps its LP warm between
// solves, so each lives on one worker thread for its whole life: one for the plans the user asks
// for while dragging ρ, one for the trade-off curve (whose sweep of many solves must neither
// delay a drag plan nor move the drag planner's warm basis).
//
// Latest wins: while a solve runs, a newer request replaces the pending one, so the worker never
// falls behind a drag. Every result that arrives is delivered in generation order, and a result
// is stale, and dropped, when a newer one was already delivered or the profile has changed since
// it was asked for. Intermediate results during a drag are delivered: they are the feedback.
class PlanningService : public QObject {
    Q_OBJECT

public:
    explicit PlanningService(QObject* parent = nullptr);
    // Stops the solves in progress (within a progress interval), then waits for the workers.
    ~PlanningService() override;

    // A new planner (built on the worker) for every later request; requests and curves asked for
    // the previous profile are dropped, and a solve in progress for it stops.
    void setProfile(const Profile& profile, const PlannerOptions& options = {});

    // Stops the plan being solved and drops the request waiting for it, each answering
    // planCancelled (unless it had finished already). The stopped planner's LP is discarded, so the
    // next request solves cold. The curve is not touched.
    void cancelPlan();
    // For requests made after it; tests shorten it so that any solve reports.
    void setProgressInterval(double seconds) { m_progressIntervalSeconds = seconds; }
    bool hasProfile() const { return m_profileEpoch != 0; }

    // Returns the request's generation, increasing from 1; its answer is planReady or planFailed.
    quint64 requestPlan(const FreezeBounds& bounds);
    quint64 latestGeneration() const { return m_generation; }

    // The predicted batch time for ρ = 0, 1/(points − 1), …, 1 (points >= 2, fewer are raised to
    // 2) as (ρ, batch ms). The stage overrides of `shape` are ignored — every stage gets ρ, which
    // is what the global slider would give with nothing locked — and its action caps are kept. A
    // newer request or a new profile cancels the sweep between two solves.
    void requestTradeoffCurve(const FreezeBounds& shape, int points);

    // How often a long solve reports planProgress (and notices a cancel), by default.
    static constexpr double kProgressIntervalSeconds = 0.25;

signals:
    void planReady(quint64 generation, std::shared_ptr<const tfreeze::FreezePlan> plan);
    // Every kProgressIntervalSeconds while a request's solve runs longer than that.
    void planProgress(quint64 generation, double elapsedSeconds, qint64 pivots);
    // The request's solve was stopped by cancelPlan().
    void planCancelled(quint64 generation);
    // InputError/PlannerError text, e.g. "bounds: max_freeze: must be a number in [0, 1] (got 1.5)".
    void planFailed(quint64 generation, QString message);
    void tradeoffCurveReady(QList<QPointF> curve);
    void tradeoffCurveFailed(QString message);

private:
    // The state each worker shares with the GUI thread (under its mutex) and its planner.
    struct PlanWorker;
    struct CurveWorker;

    // On the worker threads; what they find goes back to `self` through m_replies.
    void drainPlans(const std::shared_ptr<PlanWorker>& worker);
    void drainCurves(const std::shared_ptr<CurveWorker>& worker);
    void postPlanDrain();
    void postCurveDrain();
    void deliverPlan(quint64 generation, quint64 epoch, std::shared_ptr<const FreezePlan> plan);
    void deliverFailure(quint64 generation, quint64 epoch, const QString& message);
    void deliverCancelled(quint64 generation, quint64 epoch);
    void deliverProgress(quint64 generation, quint64 epoch, const PlanProgress& progress);
    void deliverCurve(quint64 curveId, quint64 epoch, const QList<QPointF>& curve, const QString& error);

    std::shared_ptr<PlanWorker> m_plan;
    std::shared_ptr<CurveWorker> m_curve;
    QueuedCallReceiver m_replies; // results, run on the GUI thread
    // Declared after m_replies, so destroyed (joined) before it: a drain can always reply.
    SerialExecutor m_planThread { "planner" };
    SerialExecutor m_curveThread { "tradeoff curve" };
    quint64 m_generation = 0;
    quint64 m_lastDelivered = 0;
    quint64 m_profileEpoch = 0;
    quint64 m_curveId = 0;
    double m_progressIntervalSeconds = kProgressIntervalSeconds;
};

} // namespace tfreeze
