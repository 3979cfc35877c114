#include "core/engine/pipeline_runtime.h"

#include "core/engine/action_timer.h"
#include "core/engine/freeze_selection.h"
#include "core/engine/in_process_transport.h"
#include "core/engine/process_group.h"
#include "core/engine/process_group_transport.h"
#include "core/engine/stage_worker.h"
#include "core/engine/step_exchange.h"
#include "core/plan/plan_error.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <dlfcn.h>
#include <mutex>
#include <thread>

namespace tfreeze {

namespace {

// Looked up at run time: LibTorch may sit on another BLAS (MKL, reference), which has no such knob.
void limitOpenBlasThreads(int threads)
{
    using SetThreads = void (*)(int);
    if (void* symbol = dlsym(RTLD_DEFAULT, "openblas_set_num_threads"))
        reinterpret_cast<SetThreads>(symbol)(threads);
}

} // namespace

struct PipelineRuntime::Impl {
    std::shared_ptr<Transport> transport;
    std::shared_ptr<const FreezeSelector> selector;
    std::unique_ptr<ActionTimer> timer; // host clock, or CUDA events when a stage is on CUDA
    std::vector<std::unique_ptr<StageWorker>> workers; // of this process's ranks ...
    std::vector<int> workerRanks; // ... which are these
    std::vector<std::thread> threads;
    std::mutex sinkMutex;

    // Step hand-off: the coordinator bumps `generation`, workers run `job`, the last one to finish
    // wakes the coordinator.
    std::mutex mutex;
    std::condition_variable start;
    std::condition_variable done;
    std::uint64_t generation = 0;
    int running = 0;
    bool shutdown = false;
    StepJob job;
    std::atomic<bool> abort { false };
    std::string error; // the first worker failure of the step, under `mutex`

    void workerLoop(std::size_t index, int threads)
    {
        const int rank = workerRanks[index];
        torch::set_num_threads(threads);
        std::uint64_t seen = 0;
        for (;;) {
            {
                std::unique_lock<std::mutex> lock(mutex);
                start.wait(lock, [&] { return shutdown || generation != seen; });
                if (shutdown)
                    return;
                seen = generation;
            }
            try {
                workers[index]->run(job);
            } catch (const TransportAborted&) {
                // Another rank failed and reports it.
            } catch (const c10::Error& e) {
                recordFailure(rank, e.what_without_backtrace());
            } catch (const std::exception& e) {
                recordFailure(rank, e.what());
            } catch (...) {
                recordFailure(rank, "unknown exception");
            }
            std::lock_guard<std::mutex> lock(mutex);
            if (--running == 0)
                done.notify_all();
        }
    }

    void recordFailure(int rank, const std::string& what)
    {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (error.empty())
                error = "rank " + std::to_string(rank) + ": " + what;
        }
        abort.store(true);
        // Wakes every worker blocked in a receive, so all of them leave this step.
        transport->abort(what);
    }

    // Returns the first failure of the step (empty when none).
    std::string runWorkers()
    {
        {
            std::lock_guard<std::mutex> lock(mutex);
            error.clear();
            abort.store(false);
            running = static_cast<int>(workers.size());
            ++generation;
        }
        start.notify_all();
        std::unique_lock<std::mutex> lock(mutex);
        done.wait(lock, [&] { return running == 0; });
        return error;
    }
};

PipelineRuntime::PipelineRuntime(PipelineSchedule schedule, std::vector<PipelineStagePtr> stages,
    OptimizerStep optimizerStep, RuntimeOptions options, std::shared_ptr<Transport> transport,
    std::shared_ptr<const FreezeSelector> selector)
    : m_schedule(std::move(schedule))
    , m_stages(std::move(stages))
    , m_optimizerStep(std::move(optimizerStep))
    , m_options(options)
    , m_impl(std::make_unique<Impl>())
{
    if (m_options.threadsPerRank < 1)
        throw InputError({}, "threads_per_rank", "must be ≥ 1 (got " + std::to_string(m_options.threadsPerRank) + ")");
    if (static_cast<int>(m_stages.size()) != m_schedule.stageCount())
        throw InputError({}, "stages",
            "the schedule has " + std::to_string(m_schedule.stageCount()) + " stages but the model "
                + std::to_string(m_stages.size()));
    for (std::size_t s = 0; s < m_stages.size(); ++s)
        if (!m_stages[s])
            throw InputError({}, "stages", "stage " + std::to_string(s) + " is missing");

    std::vector<int> stageRanks;
    for (int s = 0; s < m_schedule.stageCount(); ++s)
        stageRanks.push_back(m_schedule.stageRank(s));
    const std::shared_ptr<ProcessGroup>& group = m_options.group;
    if (group && group->size() != m_schedule.rankCount())
        throw InputError("environment", "WORLD_SIZE",
            "a multi-process run needs one process per pipeline rank: the schedule has "
                + std::to_string(m_schedule.rankCount()) + " ranks, the process group " + std::to_string(group->size())
                + " processes");
    if (transport) {
        m_impl->transport = std::move(transport);
    } else if (group) {
        std::vector<int> rankProcess(static_cast<std::size_t>(m_schedule.rankCount()));
        for (int r = 0; r < m_schedule.rankCount(); ++r)
            rankProcess[static_cast<std::size_t>(r)] = r;
        m_impl->transport = std::make_shared<ProcessGroupTransport>(
            group, stageRanks, rankProcess, m_schedule.microbatchCount(), group->device());
    } else {
        m_impl->transport = std::make_shared<InProcessTransport>(stageRanks);
    }
    m_impl->selector = selector
        ? std::move(selector)
        : std::make_shared<FreezeSelection>(options.seed, options.stabilityCheckFreq, options.firstStageDraw);

    std::vector<torch::Device> devices;
    for (const auto& stage : m_stages)
        for (const auto& parameter : stage->parameters())
            if (parameter.is_cuda() && std::find(devices.begin(), devices.end(), parameter.device()) == devices.end())
                devices.push_back(parameter.device());
    m_impl->timer = devices.empty() ? makeHostActionTimer() : makeCudaActionTimer(m_schedule.rankCount(), devices);

    if (m_options.limitBlasThreads && m_schedule.rankCount() > 1)
        limitOpenBlasThreads(m_options.threadsPerRank);

    std::size_t offset = 0;
    for (int r = 0; r < m_schedule.rankCount(); ++r) {
        if (!group || r == group->rank()) {
            m_impl->workers.push_back(
                std::make_unique<StageWorker>(r, m_schedule, m_stages, offset, *m_impl->transport, *m_impl->selector));
            m_impl->workerRanks.push_back(r);
        }
        offset += m_schedule.rankOrder(r).size();
    }
    for (std::size_t i = 0; i < m_impl->workers.size(); ++i)
        m_impl->threads.emplace_back([this, i] { m_impl->workerLoop(i, m_options.threadsPerRank); });
}

PipelineRuntime::~PipelineRuntime()
{
    {
        std::lock_guard<std::mutex> lock(m_impl->mutex);
        m_impl->shutdown = true;
    }
    m_impl->start.notify_all();
    for (auto& thread : m_impl->threads)
        thread.join();
}

void PipelineRuntime::addSink(std::shared_ptr<TelemetrySink> sink)
{
    std::lock_guard<std::mutex> lock(m_impl->sinkMutex);
    m_sinks.push_back(std::move(sink));
}

void PipelineRuntime::publish(const TelemetryEvent& event)
{
    std::lock_guard<std::mutex> lock(m_impl->sinkMutex);
    for (const auto& sink : m_sinks)
        sink->publish(event);
}

void PipelineRuntime::setRatios(std::vector<double> ratios, const char* origin)
{
    if (!ratios.empty() && ratios.size() != m_schedule.actionCount())
        throw InputError(origin, "freeze_ratios",
            "expected one ratio per action (" + std::to_string(m_schedule.actionCount()) + "), got "
                + std::to_string(ratios.size()));
    for (std::size_t i = 0; i < ratios.size(); ++i)
        if (!(ratios[i] >= 0.0 && ratios[i] <= 1.0))
            throw InputError(origin, "freeze_ratios[" + std::to_string(i) + "]",
                "must be in [0, 1] (got " + std::to_string(ratios[i]) + ")");
    m_ratios = std::move(ratios);
}

StepResult PipelineRuntime::fail(std::int64_t step, std::string reason)
{
    m_failure = reason;
    publish(RunFailed { step, reason });
    StepResult result;
    result.status = StepStatus::Failed;
    result.error = std::move(reason);
    return result;
}

bool PipelineRuntime::exchangeBoundary(const StepContext& context)
{
    ProcessGroup& group = *m_options.group;
    const std::size_t actions = m_schedule.actionCount();
    if (group.rank() != 0) {
        for (;;) {
            StepCommand command = broadcastCommand(group, {}, actions);
            if (command.kind == StepCommand::Kind::Paused)
                continue;
            if (command.kind == StepCommand::Kind::Stop)
                return false;
            m_ratios = command.freezeRatios.value_or(std::vector<double> {});
            return true;
        }
    }
    // Rank 0: while paused, a "still paused" every few seconds keeps the others inside their c10d
    // time-out.
    for (;;) {
        std::optional<RunControl::Boundary> boundary = m_control->awaitStepBoundaryFor(std::chrono::seconds(2));
        StepCommand command;
        if (!boundary) {
            command.kind = StepCommand::Kind::Paused;
            broadcastCommand(group, command, actions);
            continue;
        }
        try {
            if (boundary->freezeRatios)
                setRatios(std::move(*boundary->freezeRatios), "RunControl");
            if (!context.freezeRatios.empty())
                setRatios(context.freezeRatios, "StepContext");
        } catch (const InputError&) {
            // The others wait for this boundary: release them, then report the caller's error.
            command.kind = StepCommand::Kind::Stop;
            broadcastCommand(group, command, actions);
            throw;
        }
        command.kind = boundary->stop ? StepCommand::Kind::Stop : StepCommand::Kind::Run;
        if (!m_ratios.empty())
            command.freezeRatios = m_ratios;
        broadcastCommand(group, command, actions);
        return !boundary->stop;
    }
}

StepResult PipelineRuntime::runStep(const StepBatch& batch, const StepContext& context)
{
    const std::int64_t step = m_nextStep;
    if (!m_failure.empty()) {
        StepResult result;
        result.status = StepStatus::Failed;
        result.error = m_failure;
        return result;
    }
    if (m_options.group) {
        bool run = false;
        try {
            run = exchangeBoundary(context);
        } catch (const InputError&) {
            throw;
        } catch (const std::exception& e) {
            return fail(step, std::string("process group: ") + e.what());
        }
        if (!run) {
            StepResult result;
            result.status = StepStatus::Stopped;
            return result;
        }
    } else {
        RunControl::Boundary boundary = m_control->awaitStepBoundary();
        if (boundary.stop) {
            StepResult result;
            result.status = StepStatus::Stopped;
            return result;
        }
        // Bad input is the caller's error, not the run's: it throws and leaves the run usable.
        if (boundary.freezeRatios)
            setRatios(std::move(*boundary.freezeRatios), "RunControl");
        if (!context.freezeRatios.empty())
            setRatios(context.freezeRatios, "StepContext");
    }
    const auto microbatches = static_cast<std::size_t>(m_schedule.microbatchCount());
    if (batch.inputs.size() != microbatches || batch.targets.size() != microbatches)
        throw InputError({}, "batch",
            "expected " + std::to_string(microbatches) + " microbatches of inputs and targets, got "
                + std::to_string(batch.inputs.size()) + " and " + std::to_string(batch.targets.size()));

    // set_to_none: a tensor frozen on every microbatch has no gradient, and AdamW skips it.
    for (const auto& stage : m_stages)
        for (auto& parameter : stage->parameters())
            parameter.mutable_grad() = torch::Tensor();

    Impl& impl = *m_impl;
    ActionTimer& timer = *impl.timer;
    impl.transport->reset();
    impl.job = StepJob {};
    impl.job.step = step;
    impl.job.inputs = &batch.inputs;
    impl.job.targets = &batch.targets;
    impl.job.freezeRatios = m_ratios.empty() ? nullptr : &m_ratios;
    impl.job.timer = m_options.timing ? &timer : nullptr;
    impl.job.abort = &impl.abort;
    std::string error;
    try {
        // One time base for every process's spans: they start the batch together (to within the
        // barrier's latency).
        if (m_options.group)
            m_options.group->barrier();
        timer.startBatch();
        error = impl.runWorkers();
        if (m_options.group)
            error = agreeOnFailure(*m_options.group, error);
    } catch (const std::exception& e) {
        error = std::string("process group: ") + e.what();
    }
    if (!error.empty()) {
        // The partial gradients must not leak into a later step.
        for (const auto& stage : m_stages)
            for (auto& parameter : stage->parameters())
                parameter.mutable_grad() = torch::Tensor();
        return fail(step, error);
    }
    try {
        timer.synchronize();
    } catch (const c10::Error& e) {
        return fail(step, std::string("device: ") + e.what_without_backtrace());
    }
    const std::int64_t pipelineUs = timer.hostElapsedUs();
    // Combined over the processes before the optimizer step, which may stop a failed run early.
    double lossSum = 0.0;
    for (const auto& worker : impl.workers)
        lossSum += worker->lossSum();
    const int ranks = m_schedule.rankCount();
    const int stages = m_schedule.stageCount();
    std::vector<double> stageFrozenSum(static_cast<std::size_t>(stages), 0.0);
    std::vector<int> stageActions(static_cast<std::size_t>(stages), 0);
    m_lastGradientCounts.assign(static_cast<std::size_t>(stages), {});
    m_lastSpans.clear();
    for (std::size_t i = 0; i < impl.workers.size(); ++i) {
        const StageWorker& worker = *impl.workers[i];
        for (ActionSpan span : worker.spans()) {
            span.startUs = timer.microseconds(impl.workerRanks[i], span.startUs);
            span.endUs = timer.microseconds(impl.workerRanks[i], span.endUs);
            m_lastSpans.push_back(span);
        }
        for (int s = 0; s < stages; ++s) {
            const auto si = static_cast<std::size_t>(s);
            stageFrozenSum[si] += worker.stageFrozenFractionSum()[si];
            stageActions[si] += worker.stageFreezableActions()[si];
            if (!worker.gradientCounts()[si].empty())
                m_lastGradientCounts[si] = worker.gradientCounts()[si];
        }
    }
    if (m_options.group) {
        try {
            allReduceStepSums(*m_options.group, lossSum, stageFrozenSum, stageActions);
            if (m_options.timing)
                m_lastSpans = allGatherSpans(*m_options.group, m_lastSpans);
        } catch (const std::exception& e) {
            return fail(step, std::string("process group: ") + e.what());
        }
    }

    try {
        if (m_optimizerStep)
            m_optimizerStep();
        // The optimizer's kernels are part of the batch (queued only, on CUDA).
        timer.synchronize();
    } catch (const c10::Error& e) {
        return fail(step, std::string("optimizer step: ") + e.what_without_backtrace());
    } catch (const std::exception& e) {
        return fail(step, std::string("optimizer step: ") + e.what());
    }
    const std::int64_t batchUs = timer.hostElapsedUs();

    StepStats stats;
    stats.step = step;
    stats.phase = context.phase;
    stats.learningRate = context.learningRate;
    stats.loss = lossSum / static_cast<double>(microbatches);
    for (const auto& input : batch.inputs)
        stats.tokens += input.numel();
    stats.batchMs = static_cast<double>(batchUs) / 1000.0;
    stats.tokensPerSecond = batchUs > 0 ? static_cast<double>(stats.tokens) * 1e6 / static_cast<double>(batchUs) : 0.0;

    stats.rankBubbleFraction.assign(static_cast<std::size_t>(ranks), 0.0);
    stats.stageMeanFreezeRatio.assign(static_cast<std::size_t>(stages), 0.0);
    for (std::size_t s = 0; s < stageFrozenSum.size(); ++s)
        stats.stageMeanFreezeRatio[s] = stageActions[s] > 0 ? stageFrozenSum[s] / stageActions[s] : 0.0;

    // Bubble: idle time within the pipeline's makespan (the optimizer step is not pipeline time).
    if (m_options.timing && pipelineUs > 0) {
        std::vector<std::int64_t> busy(static_cast<std::size_t>(ranks), 0);
        std::int64_t makespan = 0;
        for (const ActionSpan& span : m_lastSpans) {
            busy[static_cast<std::size_t>(span.rank)] += span.endUs - span.startUs;
            makespan = std::max(makespan, span.endUs);
        }
        double idleSum = 0.0;
        for (int r = 0; r < ranks; ++r) {
            const double idle
                = makespan > 0 ? 1.0 - static_cast<double>(busy[static_cast<std::size_t>(r)]) / makespan : 0.0;
            stats.rankBubbleFraction[static_cast<std::size_t>(r)] = std::max(0.0, idle);
            idleSum += std::max(0.0, idle);
        }
        stats.bubbleFraction = idleSum / ranks;
    }

    ++m_completedSteps;
    m_nextStep = step + 1;
    // Published after the step, from the caller's thread: the workers never wait on a sink.
    for (const ActionSpan& span : m_lastSpans)
        publish(span);
    publish(stats);
    StepResult result;
    result.stats = std::move(stats);
    return result;
}

void PipelineRuntime::finish(std::optional<std::string> stopReason)
{
    publish(RunFinished { m_completedSteps, std::move(stopReason) });
}

} // namespace tfreeze
