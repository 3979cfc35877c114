#include "ui/planning_service.h"

#include "core/plan/plan_error.h"
#include "ui/telemetry_metatypes.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <string>
#include <utility>

namespace tfreeze {

namespace {

struct EpochProfile {
    quint64 epoch = 0;
    Profile profile;
    PlannerOptions options;
};

// The planner of one worker thread, rebuilt when the profile changes. Touched only there.
struct WorkerPlanner {
    std::unique_ptr<FreezePlanner> planner;
    quint64 epoch = 0;
    std::string error; // why the planner of `epoch` could not be built

    void rebuild(const EpochProfile& source)
    {
        // A run's profile measured again has the shape of the last one: start from its optimum.
        const PlannerBasis last = planner ? planner->optimalBasis() : PlannerBasis {};
        planner.reset();
        epoch = source.epoch;
        error.clear();
        try {
            planner = std::make_unique<FreezePlanner>(source.profile, source.options);
            planner->startFrom(last);
        } catch (const std::exception& e) {
            error = e.what();
        }
    }
};

} // namespace

struct PlanningService::PlanWorker {
    struct Request {
        quint64 generation = 0;
        quint64 epoch = 0;
        FreezeBounds bounds;
        double progressIntervalSeconds = kProgressIntervalSeconds;
    };

    // Shared between the GUI thread and the worker.
    std::mutex mutex;
    std::optional<EpochProfile> newProfile;
    std::optional<Request> pending;
    bool drainQueued = false;
    // Read inside a solve, by the planner's progress handler, to stop it: requests up to this
    // generation are cancelled; a request of another epoch has lost its profile (0: the service
    // is going away).
    std::atomic<quint64> cancelledThrough { 0 };
    std::atomic<quint64> latestEpoch { 0 };
    // The worker's own.
    WorkerPlanner planner;
};

struct PlanningService::CurveWorker {
    struct Request {
        quint64 id = 0;
        quint64 epoch = 0;
        FreezeBounds shape;
        int points = 2;
    };

    std::mutex mutex;
    std::optional<EpochProfile> profile; // the latest, for a lazy rebuild
    std::optional<Request> pending;
    bool drainQueued = false;
    // Read by the worker between two solves to cancel a sweep.
    std::atomic<quint64> latestId { 0 };
    std::atomic<quint64> latestEpoch { 0 };
    WorkerPlanner planner;
};

PlanningService::PlanningService(QObject* parent)
    : QObject(parent)
    , m_plan(std::make_shared<PlanWorker>())
    , m_curve(std::make_shared<CurveWorker>())
{
    registerTelemetryMetaTypes();
    qRegisterMetaType<QList<QPointF>>();
}

PlanningService::~PlanningService()
{
    // Nothing left to solve: a queued drain returns at once, and the executors' destructors (after
    // this body) wait only for the solve in progress, which stops at its next progress check: no
    // sweep id and no profile epoch is 0.
    m_curve->latestId.store(0);
    m_plan->latestEpoch.store(0);
    {
        std::lock_guard<std::mutex> lock(m_plan->mutex);
        m_plan->newProfile.reset();
        m_plan->pending.reset();
    }
    {
        std::lock_guard<std::mutex> lock(m_curve->mutex);
        m_curve->pending.reset();
    }
}

void PlanningService::setProfile(const Profile& profile, const PlannerOptions& options)
{
    ++m_profileEpoch;
    m_curve->latestEpoch.store(m_profileEpoch);
    m_plan->latestEpoch.store(m_profileEpoch);
    bool post = false;
    {
        std::lock_guard<std::mutex> lock(m_plan->mutex);
        m_plan->newProfile = EpochProfile { m_profileEpoch, profile, options };
        m_plan->pending.reset();
        post = !m_plan->drainQueued;
        m_plan->drainQueued = true;
    }
    {
        std::lock_guard<std::mutex> lock(m_curve->mutex);
        m_curve->profile = EpochProfile { m_profileEpoch, profile, options };
        m_curve->pending.reset();
    }
    // The new planner is built on the worker, ahead of any request made after this call.
    if (post)
        postPlanDrain();
}

quint64 PlanningService::requestPlan(const FreezeBounds& bounds)
{
    const quint64 generation = ++m_generation;
    bool post = false;
    {
        std::lock_guard<std::mutex> lock(m_plan->mutex);
        m_plan->pending = PlanWorker::Request { generation, m_profileEpoch, bounds, m_progressIntervalSeconds };
        post = !m_plan->drainQueued;
        m_plan->drainQueued = true;
    }
    if (post)
        postPlanDrain();
    return generation;
}

void PlanningService::cancelPlan()
{
    m_plan->cancelledThrough.store(m_generation);
    std::optional<PlanWorker::Request> dropped;
    {
        std::lock_guard<std::mutex> lock(m_plan->mutex);
        dropped.swap(m_plan->pending);
    }
    if (dropped)
        deliverCancelled(dropped->generation, dropped->epoch);
}

void PlanningService::requestTradeoffCurve(const FreezeBounds& shape, int points)
{
    const quint64 id = ++m_curveId;
    m_curve->latestId.store(id);
    bool post = false;
    {
        std::lock_guard<std::mutex> lock(m_curve->mutex);
        m_curve->pending = CurveWorker::Request { id, m_profileEpoch, shape, std::max(points, 2) };
        post = !m_curve->drainQueued;
        m_curve->drainQueued = true;
    }
    if (post)
        postCurveDrain();
}

void PlanningService::postPlanDrain()
{
    m_planThread.post([this, worker = m_plan] { drainPlans(worker); });
}

void PlanningService::postCurveDrain()
{
    m_curveThread.post([this, worker = m_curve] { drainCurves(worker); });
}

// On the plan worker: solves the pending request, then the one that replaced it meanwhile, until
// none is left. `this` is alive while it runs (the destructor joins the worker first); only the
// replies, on the GUI thread, touch its members.
// NOLINTNEXTLINE(readability-function-cognitive-complexity): take the newest request, rebuild, solve, deliver
void PlanningService::drainPlans(const std::shared_ptr<PlanWorker>& worker)
{
    for (;;) {
        std::optional<EpochProfile> profile;
        std::optional<PlanWorker::Request> request;
        {
            std::lock_guard<std::mutex> lock(worker->mutex);
            profile.swap(worker->newProfile);
            request.swap(worker->pending);
            if (!profile && !request) {
                worker->drainQueued = false;
                return;
            }
        }
        if (profile)
            worker->planner.rebuild(*profile);
        if (!request)
            continue;
        std::shared_ptr<const FreezePlan> plan;
        std::string error;
        bool cancelled = false;
        if (!worker->planner.planner || worker->planner.epoch != request->epoch) {
            error = worker->planner.error.empty() || worker->planner.epoch != request->epoch
                ? tr("No profile to plan for.").toStdString()
                : worker->planner.error;
        } else {
            worker->planner.planner->setProgressHandler(
                [this, self = worker.get(), generation = request->generation, epoch = request->epoch](
                    const PlanProgress& progress) {
                    if (self->cancelledThrough.load() >= generation || self->latestEpoch.load() != epoch)
                        return false;
                    m_replies.post(
                        [this, generation, epoch, progress] { deliverProgress(generation, epoch, progress); });
                    return true;
                },
                request->progressIntervalSeconds);
            try {
                plan = std::make_shared<const FreezePlan>(worker->planner.planner->plan(request->bounds));
            } catch (const PlanCancelled&) {
                cancelled = true;
            } catch (const std::exception& e) {
                error = e.what();
            }
        }
        if (cancelled) {
            m_replies.post([this, generation = request->generation, epoch = request->epoch] {
                deliverCancelled(generation, epoch);
            });
            continue;
        }
        // Given away, not shared: nothing of the reply is touched here after the post (QStrings are
        // made on the GUI thread; see QueuedCallReceiver).
        m_replies.post([this, generation = request->generation, epoch = request->epoch, plan = std::move(plan),
                           error = std::move(error)] {
            if (plan)
                deliverPlan(generation, epoch, plan);
            else
                deliverFailure(generation, epoch, QString::fromStdString(error));
        });
    }
}

// On the curve worker: sweeps ρ with its own planner, rebuilt when the profile changed; stops
// between two solves once a newer curve or profile was asked for.
// NOLINTNEXTLINE(readability-function-cognitive-complexity): take the newest request, rebuild, sweep, deliver
void PlanningService::drainCurves(const std::shared_ptr<CurveWorker>& worker)
{
    for (;;) {
        std::optional<CurveWorker::Request> request;
        std::optional<EpochProfile> profile;
        {
            std::lock_guard<std::mutex> lock(worker->mutex);
            request.swap(worker->pending);
            if (!request) {
                worker->drainQueued = false;
                return;
            }
            if (worker->profile && worker->profile->epoch == request->epoch && worker->planner.epoch != request->epoch)
                profile = worker->profile;
        }
        if (profile)
            worker->planner.rebuild(*profile);
        auto cancelled
            = [&]() { return worker->latestId.load() != request->id || worker->latestEpoch.load() != request->epoch; };
        QList<QPointF> curve;
        std::string error;
        if (!worker->planner.planner || worker->planner.epoch != request->epoch) {
            error = worker->planner.error.empty() || worker->planner.epoch != request->epoch
                ? tr("No profile to plan for.").toStdString()
                : worker->planner.error;
        } else {
            FreezeBounds bounds;
            bounds.actionCap = request->shape.actionCap;
            worker->planner.planner->setProgressHandler(
                [self = worker.get(), id = request->id, epoch = request->epoch](
                    const PlanProgress&) { return self->latestId.load() == id && self->latestEpoch.load() == epoch; },
                kProgressIntervalSeconds);
            for (int i = 0; i < request->points && !cancelled(); ++i) {
                bounds.maxFreeze = static_cast<double>(i) / (request->points - 1);
                try {
                    curve.append(QPointF(bounds.maxFreeze, worker->planner.planner->plan(bounds).batchMsPlanned));
                } catch (const std::exception& e) {
                    error = e.what();
                    break;
                }
            }
        }
        if (cancelled())
            continue;
        m_replies.post(
            [this, id = request->id, epoch = request->epoch, curve = std::move(curve), error = std::move(error)] {
                deliverCurve(id, epoch, curve, QString::fromStdString(error));
            });
    }
}

void PlanningService::deliverPlan(quint64 generation, quint64 epoch, std::shared_ptr<const FreezePlan> plan)
{
    if (epoch != m_profileEpoch || generation <= m_lastDelivered)
        return;
    m_lastDelivered = generation;
    emit planReady(generation, std::move(plan));
}

void PlanningService::deliverFailure(quint64 generation, quint64 epoch, const QString& message)
{
    if (epoch != m_profileEpoch || generation <= m_lastDelivered)
        return;
    m_lastDelivered = generation;
    emit planFailed(generation, message);
}

void PlanningService::deliverCancelled(quint64 generation, quint64 epoch)
{
    if (epoch != m_profileEpoch || generation <= m_lastDelivered)
        return;
    m_lastDelivered = generation;
    emit planCancelled(generation);
}

void PlanningService::deliverProgress(quint64 generation, quint64 epoch, const PlanProgress& progress)
{
    // A newer answer already delivered makes this solve's progress old news.
    if (epoch != m_profileEpoch || generation <= m_lastDelivered)
        return;
    emit planProgress(generation, progress.elapsedSeconds, static_cast<qint64>(progress.pivots));
}

void PlanningService::deliverCurve(quint64 curveId, quint64 epoch, const QList<QPointF>& curve, const QString& error)
{
    if (curveId != m_curveId || epoch != m_profileEpoch)
        return;
    if (error.isEmpty())
        emit tradeoffCurveReady(curve);
    else
        emit tradeoffCurveFailed(error);
}

} // namespace tfreeze
