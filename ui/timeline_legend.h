#pragma once

// The key to the timeline's colours and marks, on one line under it: what F, B, I and W bars are,
// how a bar's frozen share, a bubble and the critical path look. Painted with the very colours
// TimelineView paints with, so it follows the palette (light or dark) as the timeline does.

#include <QColor>
#include <QList>
#include <QString>
#include <QWidget>

namespace tfreeze {

class TimelineLegend : public QWidget {
    Q_OBJECT

public:
    // How an entry's swatch is drawn.
    enum class Swatch {
        Fill, // a bar of `color`
        FrozenShare, // a backward bar with its frozen share shaded
        Outline, // an empty bar with the critical path's outline
    };
    struct Entry {
        QString text;
        Swatch swatch = Swatch::Fill;
        QColor color; // the fill, or for FrozenShare the bar's colour
    };

    explicit TimelineLegend(QWidget* parent = nullptr);

    // The entries for the current palette, left to right.
    QList<Entry> entries() const;

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;
};

} // namespace tfreeze
