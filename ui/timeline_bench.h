#pragma once

// `tfreeze-studio --bench timeline`: repaint times of a TimelineView at full HD on a 64-rank ×
// 512-microbatch 1F1B batch (65,536 bars). The target is a full repaint within one 60 Hz frame.

#include <QString>

#include <cstddef>

namespace tfreeze {

struct TimelineBenchResult {
    int ranks = 0;
    int microbatches = 0;
    std::size_t bars = 0;
    int width = 0;
    int height = 0;
    int repeats = 0;
    // Medians over `repeats` renders into an offscreen QImage.
    double fullRepaintMs = 0.0; // the whole batch visible
    double zoomedRepaintMs = 0.0; // 1/32 of the batch visible
    double panStepMs = 0.0; // the zoomed view moved by 50 px, then repainted
    double fullRepaintNoLevelOfDetailMs = 0.0; // the whole batch, every bar painted

    double levelOfDetailSpeedup() const
    {
        return fullRepaintMs > 0.0 ? fullRepaintNoLevelOfDetailMs / fullRepaintMs : 0.0;
    }
};

// Needs a QApplication (it renders a widget). repeats < 1 counts as 1.
TimelineBenchResult runTimelineBench(int repeats);
// A few lines for the terminal: the figures, and whether the ≤ 16 ms target was met.
QString timelineBenchReport(const TimelineBenchResult& result);

} // namespace tfreeze
