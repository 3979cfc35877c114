#include "core/store/run_recorder.h"

#include "core/store/run_store.h"
#include "core/store/sqlite_connection.h"

#include <algorithm>
#include <type_traits>
#include <utility>

namespace tfreeze {

RunRecorder::RunRecorder(const std::string& dbPath, std::int64_t runId, RunRecorderOptions options)
    : m_dbPath(dbPath)
    , m_runId(runId)
    , m_options(std::move(options))
    , m_store(std::make_unique<RunStore>(dbPath))
    , m_retention(m_options.retention)
{
    m_store->run(runId); // an unknown run is an error now, not on the writer thread later
    if (m_options.maxDatabaseBytes > 0)
        m_store->limitSize(m_options.maxDatabaseBytes);
    m_writer = std::thread([this] { writerLoop(); });
}

RunRecorder::~RunRecorder() { close(); }

void RunRecorder::publish(const TelemetryEvent& event)
{
    bool wake = false;
    if (const auto* span = std::get_if<ActionSpan>(&event)) {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_error || m_closing)
            return;
        m_queue.spans.push_back(*span);
        ++m_published;
        wake = m_queue.size() >= m_options.maxBatchEvents;
    } else {
        Queued queued { event, {}, 0 };
        if (std::holds_alternative<RunEvent>(event) || std::holds_alternative<RunFinished>(event)
            || std::holds_alternative<RunFailed>(event))
            queued.time = isoTimeNow();
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_error || m_closing)
            return;
        queued.spansBefore = m_queue.spans.size();
        m_queue.events.push_back(std::move(queued));
        ++m_published;
        wake = m_queue.size() >= m_options.maxBatchEvents;
    }
    if (wake)
        m_wake.notify_one();
}

void RunRecorder::flush()
{
    std::unique_lock<std::mutex> lock(m_mutex);
    const std::uint64_t target = m_published;
    m_flushRequested = true;
    m_wake.notify_one();
    m_committed.wait(lock, [&] { return m_written >= target || m_error || m_closed; });
}

void RunRecorder::close()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (m_closing)
            return;
        m_closing = true;
    }
    m_wake.notify_one();
    if (m_writer.joinable())
        m_writer.join();
    std::lock_guard<std::mutex> lock(m_mutex);
    if (!m_finished && !m_error) {
        // Closed without RunFinished or RunFailed: the engine stopped or was torn down mid-run.
        try {
            m_store->setRunStatus(
                m_runId, RunStatus::Interrupted, std::string("the recorder was closed before the run finished"));
        } catch (const std::exception& error) {
            m_error = error.what();
        }
    }
    m_store.reset();
    m_closed = true;
    m_committed.notify_all();
}

std::optional<std::string> RunRecorder::error() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_error;
}

std::int64_t RunRecorder::lastCommittedStep() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_lastCommittedStep;
}

std::uint64_t RunRecorder::committedSpanCount() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_committedSpans;
}

void RunRecorder::writerLoop()
{
    Batch batch;
    for (;;) {
        bool closing = false;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait_for(lock, m_options.commitInterval,
                [this] { return m_closing || m_flushRequested || m_queue.size() >= m_options.maxBatchEvents; });
            closing = m_closing;
            m_flushRequested = false;
            // The emptied buffers of the last batch go back to publish(), capacity and all.
            std::swap(batch, m_queue);
        }
        const std::size_t count = batch.size();
        if (count != 0)
            writeBatch(batch);
        batch.clear();
        // A batch that grew far past the usual size (the writer fell behind) gives its memory back.
        if (batch.spans.capacity() > 4 * std::max<std::size_t>(m_options.maxBatchEvents, 1024)) {
            batch.spans = {};
            m_keep = {};
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_written += count;
            if (m_error) {
                // Nothing more is accepted; what was queued is given up on so flush() returns.
                m_written += m_queue.size();
                m_queue.clear();
            }
        }
        m_committed.notify_all();
        std::lock_guard<std::mutex> lock(m_mutex);
        if ((closing && m_queue.empty()) || m_error)
            return;
    }
}

namespace {

// Stable, so of two spans with one key the later still replaces the earlier. A batch holds steps
// in order, each step's spans in the order the ranks reported them: each step is sorted on its own
// (a few dozen spans, in cache), unless a step comes again later in the batch (a late report),
// which takes a sort of the whole batch.
void sortSpansByKey(std::vector<ActionSpan>& spans)
{
    const auto less = [](const ActionSpan& a, const ActionSpan& b) { return spanKeyLess(a, b); };
    const auto begin = spans.begin();
    const auto end = spans.end();
    bool stepsAscend = true;
    for (auto segment = begin; segment != end && stepsAscend;) {
        const std::int64_t step = segment->step;
        const auto next = std::find_if(segment, end, [step](const ActionSpan& span) { return span.step != step; });
        stepsAscend = next == end || next->step > step;
        segment = next;
    }
    if (!stepsAscend) {
        std::stable_sort(begin, end, less);
        return;
    }
    for (auto segment = begin; segment != end;) {
        const std::int64_t step = segment->step;
        const auto next = std::find_if(segment, end, [step](const ActionSpan& span) { return span.step != step; });
        if (!std::is_sorted(segment, next, less))
            std::stable_sort(segment, next, less);
        segment = next;
    }
}

} // namespace

void RunRecorder::writeBatch(const Batch& batch)
{
    std::int64_t lastStep = -1;
    bool finished = false;
    // The spans to write, in publish order (held spans a plan rescues join at the plan): written
    // together after the other rows, in the same transaction, so the order between tables is moot.
    std::vector<ActionSpan>& keep = m_keep;
    keep.clear();
    std::size_t nextSpan = 0;
    const auto filterSpansUpTo = [&](std::size_t end) {
        for (; nextSpan < end; ++nextSpan)
            m_retention.add(batch.spans[nextSpan], keep);
    };
    try {
        SqliteTransaction transaction(m_store->connection());
        for (const Queued& queued : batch.events) {
            filterSpansUpTo(queued.spansBefore);
            std::visit(
                [&](const auto& event) {
                    using Event = std::decay_t<decltype(event)>;
                    if constexpr (std::is_same_v<Event, ActionSpan>) {
                        m_retention.add(event, keep); // not reached: publish() queues spans apart
                    } else if constexpr (std::is_same_v<Event, StepStats>) {
                        m_store->recordStep(m_runId, event);
                        lastStep = std::max(lastStep, event.step);
                    } else if constexpr (std::is_same_v<Event, EvalStats>) {
                        m_store->recordEval(m_runId, event);
                    } else if constexpr (std::is_same_v<Event, PlanApplied>) {
                        m_store->recordPlan(m_runId, event);
                        m_retention.planApplied(event.appliedAtStep, keep);
                    } else if constexpr (std::is_same_v<Event, RunEvent>) {
                        m_store->recordEvent(m_runId, event, queued.time);
                    } else if constexpr (std::is_same_v<Event, RunFinished>) {
                        m_store->setRunStatus(
                            m_runId, event.stopReason ? RunStatus::Stopped : RunStatus::Finished, event.stopReason);
                        finished = true;
                    } else if constexpr (std::is_same_v<Event, RunFailed>) {
                        m_store->setRunStatus(
                            m_runId, RunStatus::Failed, "step " + std::to_string(event.step) + ": " + event.reason);
                        finished = true;
                    }
                },
                queued.event);
        }
        filterSpansUpTo(batch.spans.size());
        // In key order, the inserts append to the B-tree's last page. Stable: of two spans with one
        // key, the later still replaces the earlier.
        sortSpansByKey(keep);
        m_store->recordSpans(m_runId, keep.data(), keep.size());
        transaction.commit();
    } catch (const std::exception& error) {
        std::function<void(const std::string&)> onError;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_error = error.what();
            onError = m_options.onError;
        }
        // Best effort: with a full disk an update in place often still fits; if not, the next open
        // marks the run interrupted once this process is gone.
        try {
            m_store->setRunStatus(
                m_runId, RunStatus::Failed, "the run history could not be written: " + std::string(error.what()));
        } catch (const std::exception&) {
        }
        if (onError)
            onError(error.what());
        return;
    }
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_committedSpans += keep.size();
        m_finished = m_finished || finished;
        if (lastStep > m_lastCommittedStep)
            m_lastCommittedStep = lastStep;
    }
    if (m_options.onCommitted && lastStep >= 0)
        m_options.onCommitted(lastStep);
}

} // namespace tfreeze
