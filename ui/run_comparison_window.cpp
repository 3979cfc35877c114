#include "ui/run_comparison_window.h"

#include "core/plan/plan_error.h"
#include "ui/run_comparison_model.h"
#include "ui/run_history_loader.h"
#include "ui/timeline_data.h"
#include "ui/timeline_legend.h"
#include "ui/timeline_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <iterator>

namespace tfreeze {

RunComparisonWindow::RunComparisonWindow(const QString& databasePath, qint64 runA, qint64 runB, QWidget* parent)
    : QWidget(parent, Qt::Window)
    , m_runs { runA, runB }
    , m_loaders { new RunHistoryLoader(this), new RunHistoryLoader(this) }
    , m_model(new RunComparisonModel(this))
{
    setWindowTitle(tr("Compare run %1 with run %2").arg(runA).arg(runB));
    resize(1400, 900);
    auto* layout = new QVBoxLayout(this);
    auto* stepRow = new QHBoxLayout;
    stepRow->addWidget(new QLabel(tr("&Step:"), this));
    m_stepBox = new QComboBox(this);
    m_stepBox->setToolTip(tr("Steps whose timelines both runs recorded"));
    qobject_cast<QLabel*>(stepRow->itemAt(0)->widget())->setBuddy(m_stepBox);
    stepRow->addWidget(m_stepBox);
    stepRow->addStretch(1);
    stepRow->addWidget(new TimelineLegend(this));
    layout->addLayout(stepRow);

    auto* splitter = new QSplitter(Qt::Vertical, this);
    m_splitter = splitter;
    for (std::size_t side = 0; side < 2; ++side) {
        auto* pane = new QWidget(splitter);
        auto* paneLayout = new QVBoxLayout(pane);
        paneLayout->setContentsMargins(0, 0, 0, 0);
        m_titles[side] = new QLabel(tr("run %1").arg(m_runs[side]), pane);
        m_timelines[side] = new TimelineView(pane);
        paneLayout->addWidget(m_titles[side]);
        paneLayout->addWidget(m_timelines[side], 1);
        splitter->addWidget(pane);
    }
    m_table = new QTableView(splitter);
    m_table->setModel(m_model);
    m_table->verticalHeader()->hide();
    // The measure's name on one line ("Stage 0 F mean (ms)"); the figures share the rest.
    m_table->setWordWrap(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    splitter->addWidget(m_table);
    layout->addWidget(splitter, 1);

    // One time axis for both: a zoom or pan of either view moves the other.
    for (std::size_t side = 0; side < 2; ++side) {
        TimelineView* other = m_timelines[1 - side];
        connect(m_timelines[side], &TimelineView::visibleRangeChanged, this, [this, other](double start, double end) {
            if (m_syncing)
                return;
            m_syncing = true;
            other->setVisibleRange(start, end);
            m_syncing = false;
        });
    }

    connect(m_stepBox, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index >= 0)
            showStep(m_stepBox->itemData(index).toLongLong());
    });
    connect(m_loaders[0], &RunHistoryLoader::comparisonLoaded, m_model, &RunComparisonModel::setComparison);
    for (RunHistoryLoader* loader : m_loaders) {
        connect(loader, &RunHistoryLoader::replayLoaded, this, &RunComparisonWindow::onReplayLoaded);
        connect(loader, &RunHistoryLoader::spansLoaded, this,
            [this](qint64 run, qint64 step, const std::vector<ActionSpan>& spans) {
                const int side = sideOf(run);
                if (side < 0 || step != m_step)
                    return;
                const auto index = static_cast<std::size_t>(side);
                const auto& schedule = m_schedules[index];
                TimelineData data = timelineFromSpans(spans, schedule ? &*schedule : nullptr);
                data.label = tr("run %1, step %2").arg(run).arg(step);
                m_timelines[index]->setMeasured(std::move(data));
                m_stepShown[index] = true;
                if (m_stepShown[0] && m_stepShown[1]) {
                    // The longer of the two batches sets the shared axis.
                    m_timelines[0]->zoomToFit();
                    m_timelines[1]->zoomToFit();
                    const auto [startA, endA] = m_timelines[0]->visibleRange();
                    const auto [startB, endB] = m_timelines[1]->visibleRange();
                    m_timelines[0]->setVisibleRange(std::min(startA, startB), std::max(endA, endB));
                    emit stepShown(step);
                }
            });
        connect(loader, &RunHistoryLoader::loadFailed, this, [this](const QString& what, const QString& message) {
            QMessageBox::warning(this, tr("Compare runs"), tr("%1: %2").arg(what, message));
        });
    }

    for (std::size_t side = 0; side < 2; ++side) {
        m_loaders[side]->setDatabasePath(databasePath);
        m_loaders[side]->loadReplay(m_runs[side]);
    }
    m_loaders[0]->loadComparison(runA, runB);
}

int RunComparisonWindow::sideOf(qint64 run) const
{
    if (run == m_runs[0])
        return 0;
    if (run == m_runs[1])
        return 1;
    return -1;
}

void RunComparisonWindow::onReplayLoaded(const RunReplay& replay)
{
    const int side = sideOf(replay.record.id);
    if (side < 0)
        return;
    const auto index = static_cast<std::size_t>(side);
    m_titles[index]->setText(tr("run %1 · %2 · %3 steps")
                                 .arg(replay.record.id)
                                 .arg(QString::fromStdString(replay.record.name))
                                 .arg(replay.record.stepCount));
    if (replay.schedule) {
        try {
            m_schedules[index] = PipelineSchedule::generate(*replay.schedule);
        } catch (const InputError&) {
            m_schedules[index].reset(); // the timeline is still drawn, without the critical path
        }
    }
    m_spanSteps[index] = replay.spanSteps;
    m_replayLoaded[index] = true;
    if (!m_replayLoaded[0] || !m_replayLoaded[1])
        return;
    m_commonSteps.clear();
    std::set_intersection(m_spanSteps[0].begin(), m_spanSteps[0].end(), m_spanSteps[1].begin(), m_spanSteps[1].end(),
        std::back_inserter(m_commonSteps));
    {
        const QSignalBlocker blocker(m_stepBox);
        m_stepBox->clear();
        for (const std::int64_t step : m_commonSteps)
            m_stepBox->addItem(QString::number(step), QVariant::fromValue<qint64>(step));
    }
    emit loaded();
    if (!m_commonSteps.empty()) {
        m_stepBox->setCurrentIndex(m_stepBox->count() - 1);
        showStep(m_commonSteps.back());
    }
}

void RunComparisonWindow::showStep(std::int64_t step)
{
    if (step == m_step)
        return;
    m_step = step;
    m_stepShown = { false, false };
    m_loaders[0]->loadSpans(m_runs[0], step);
    m_loaders[1]->loadSpans(m_runs[1], step);
}

void RunComparisonWindow::showEvent(QShowEvent* event)
{
    QWidget::showEvent(event);
    if (m_sized)
        return;
    m_sized = true;
    // The table has a row per stage and kind: as much room as each timeline, once the splitter's
    // height is known (by their size hints the timelines would take three quarters).
    const int third = m_splitter->height() / 3;
    m_splitter->setSizes({ third, third, m_splitter->height() - 2 * third });
}

} // namespace tfreeze
