#pragma once

#include "core/plan/pipeline_schedule.h"

#include <QWidget>

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

class QComboBox;
class QLabel;
class QSplitter;
class QTableView;

namespace tfreeze {

class RunComparisonModel;
class RunHistoryLoader;
class TimelineView;
struct RunReplay;

// Two runs side by side: their timelines of one chosen step, one above the other with a shared
// time axis (zooming or panning one moves the other), and the delta table per stage and kind.
class RunComparisonWindow : public QWidget {
    Q_OBJECT
public:
    RunComparisonWindow(const QString& databasePath, qint64 runA, qint64 runB, QWidget* parent = nullptr);

    TimelineView* timeline(int side) const { return m_timelines.at(static_cast<std::size_t>(side)); }
    RunComparisonModel* model() const { return m_model; }
    // The steps both runs retained spans for (the step box lists them).
    const std::vector<std::int64_t>& commonSteps() const { return m_commonSteps; }

signals:
    // Both runs' overviews arrived and the step box is filled.
    void loaded();
    // Both timelines show `step`.
    void stepShown(qint64 step);

protected:
    void showEvent(QShowEvent* event) override;

private:
    void onReplayLoaded(const RunReplay& replay);
    void showStep(std::int64_t step);
    int sideOf(qint64 run) const;

    std::array<qint64, 2> m_runs;
    std::array<std::optional<PipelineSchedule>, 2> m_schedules;
    std::array<std::vector<std::int64_t>, 2> m_spanSteps;
    std::array<bool, 2> m_replayLoaded { false, false };
    std::array<bool, 2> m_stepShown { false, false };
    std::vector<std::int64_t> m_commonSteps;
    std::int64_t m_step = -1;
    bool m_syncing = false;

    // One loader a run: a loader answers only the newest replay asked of it.
    std::array<RunHistoryLoader*, 2> m_loaders {};
    RunComparisonModel* m_model = nullptr;
    std::array<TimelineView*, 2> m_timelines {};
    std::array<QLabel*, 2> m_titles {};
    QComboBox* m_stepBox = nullptr;
    QTableView* m_table = nullptr;
    QSplitter* m_splitter = nullptr; // the two timelines and the table
    bool m_sized = false; // the splitter's sizes set at the first show
};

} // namespace tfreeze
