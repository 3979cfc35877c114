#include "ui/timeline_legend.h"

#include "ui/timeline_view.h"

#include <QPainter>

namespace tfreeze {

namespace {
constexpr int kSwatchWidth = 18;
constexpr int kSwatchGap = 4; // between a swatch and its text
constexpr int kEntryGap = 14; // between one entry's text and the next swatch
constexpr int kMargin = 4;
} // namespace

TimelineLegend::TimelineLegend(QWidget* parent)
    : QWidget(parent)
{
    setToolTip(tr("Bars are actions, numbered by microbatch; hover one in the timeline for its times"));
}

QList<TimelineLegend::Entry> TimelineLegend::entries() const
{
    const QPalette& pal = palette();
    return {
        { tr("F forward"), Swatch::Fill, TimelineView::kindColor(ActionKind::Forward, pal) },
        { tr("B backward"), Swatch::Fill, TimelineView::kindColor(ActionKind::Backward, pal) },
        { tr("I input gradient"), Swatch::Fill, TimelineView::kindColor(ActionKind::BackwardInput, pal) },
        { tr("W weight gradient"), Swatch::Fill, TimelineView::kindColor(ActionKind::BackwardWeight, pal) },
        { tr("frozen share"), Swatch::FrozenShare, TimelineView::kindColor(ActionKind::Backward, pal) },
        { tr("bubble (idle)"), Swatch::Fill, TimelineView::bubbleColor(pal) },
        { tr("critical path"), Swatch::Outline, pal.color(QPalette::Text) },
    };
}

QSize TimelineLegend::sizeHint() const
{
    int width = kMargin;
    for (const Entry& entry : entries())
        width += kSwatchWidth + kSwatchGap + fontMetrics().horizontalAdvance(entry.text) + kEntryGap;
    return { width, fontMetrics().height() + 2 * kMargin };
}

// Narrower than its text is fine: entries that do not fit are left out whole.
QSize TimelineLegend::minimumSizeHint() const { return { 0, sizeHint().height() }; }

void TimelineLegend::paintEvent(QPaintEvent* /*event*/)
{
    QPainter painter(this);
    const QFontMetrics metrics = fontMetrics();
    const int swatchHeight = metrics.ascent();
    const int top = (height() - swatchHeight) / 2;
    int x = kMargin;
    for (const Entry& entry : entries()) {
        const int textWidth = metrics.horizontalAdvance(entry.text);
        if (x + kSwatchWidth + kSwatchGap + textWidth > width())
            break;
        const QRect swatch(x, top, kSwatchWidth, swatchHeight);
        switch (entry.swatch) {
        case Swatch::Fill:
            painter.fillRect(swatch, entry.color);
            break;
        case Swatch::FrozenShare: {
            // As a bar frozen by half: the lower half of its right half shaded.
            painter.fillRect(swatch, entry.color);
            const QRect share(swatch.center().x(), swatch.top() + swatchHeight / 2,
                swatch.right() - swatch.center().x() + 1, swatchHeight - swatchHeight / 2);
            painter.fillRect(share, TimelineView::frozenColor(ActionKind::Backward, palette()));
            break;
        }
        case Swatch::Outline:
            painter.setPen(entry.color);
            painter.setBrush(Qt::NoBrush);
            painter.drawRect(swatch.adjusted(0, 0, -1, -1));
            break;
        }
        painter.setPen(palette().color(QPalette::WindowText));
        painter.drawText(QRect(x + kSwatchWidth + kSwatchGap, 0, textWidth + 1, height()),
            Qt::AlignVCenter | Qt::AlignLeft, entry.text);
        x += kSwatchWidth + kSwatchGap + textWidth + kEntryGap;
    }
}

} // namespace tfreeze
