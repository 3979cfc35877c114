#include "ui/timeline_legend.h"
#include "ui/timeline_view.h"

#include <QPainter>
#include <QSignalSpy>
#include <QSvgRenderer>
#include <QTemporaryDir>
#include <QToolTip>
#include <QtTest>

#include <cmath>

using namespace tfreeze;

namespace {

TimelineBar makeBar(int rank, ActionKind kind, int microbatch, double start, double end, double ratio = 0.0)
{
    TimelineBar bar;
    bar.rank = rank;
    bar.stage = rank;
    bar.microbatch = microbatch;
    bar.kind = kind;
    bar.startMs = start;
    bar.endMs = end;
    bar.freezeRatio = ratio;
    bar.frozenTensors = static_cast<int>(std::lround(ratio * 4));
    bar.totalTensors = isFreezable(kind) ? 4 : 0;
    return bar;
}

// rank 0: F0 [0,20) B0 [20,40) idle [40,80); rank 1: idle [0,10) F0 [10,30) idle [30,50) W0 [50,70)
// (half frozen) idle [70,80).
TimelineData twoRanks()
{
    TimelineData data;
    data.label = QStringLiteral("hand");
    data.rankCount = 2;
    data.stageCount = 2;
    data.batchMs = 80.0;
    data.bars = { makeBar(0, ActionKind::Forward, 0, 0, 20), makeBar(0, ActionKind::Backward, 0, 20, 40),
        makeBar(1, ActionKind::Forward, 0, 10, 30), makeBar(1, ActionKind::BackwardWeight, 0, 50, 70, 0.5) };
    data.rankIdle = computeRankIdle(data.bars, data.rankCount, data.batchMs);
    indexTimelineRows(data);
    return data;
}

// Bars carry their microbatch number in the middle: colours are read a quarter of the way in.
QPoint quarterOf(const TimelineView& view, const RowGeometry& rows, int row, double startMs, double endMs)
{
    const double x = view.mapping().timeToX(startMs + 0.25 * (endMs - startMs));
    const double y = rows.rowTop(row) + rows.rowHeight / 2.0;
    return QPoint(static_cast<int>(std::floor(x)), static_cast<int>(std::floor(y)));
}

void sendWheel(QWidget& widget, QPointF position, int angle, Qt::KeyboardModifiers modifiers = Qt::NoModifier)
{
    QWheelEvent event(position, widget.mapToGlobal(position), QPoint(), QPoint(0, angle), Qt::NoButton, modifiers,
        Qt::NoScrollPhase, false);
    QApplication::sendEvent(&widget, &event);
}

bool sameRange(std::pair<double, double> a, std::pair<double, double> b)
{
    return std::abs(a.first - b.first) < 1e-9 && std::abs(a.second - b.second) < 1e-9;
}

QByteArray rangeText(std::pair<double, double> r)
{
    return QByteArray::number(r.first, 'g', 12) + ", " + QByteArray::number(r.second, 'g', 12);
}

#define COMPARE_RANGE(got, want)                                                                                       \
    QVERIFY2(sameRange((got), (want)), QByteArray(rangeText(got) + " vs " + rangeText(want)).constData())

} // namespace

class TestTimelineView : public QObject {
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void barAndBubbleColours();
    void frozenShareIsShaded();
    void darkPalette();
    void criticalPathAndDependencies();
    void stackedPlannedRows();
    void overlaidPlanOutlinesItsBars();
    void selectionIsShadedUntilEscape();
    void levelOfDetailLeavesNoHoles();
    void wheelZoomsAroundCursor_data();
    void wheelZoomsAroundCursor();
    void keysNavigate_data();
    void keysNavigate();
    void zoomBackAndForward();
    void wheelNotchesAreOneUndoStep();
    void dragSelectEmitsRange_data();
    void dragSelectEmitsRange();
    void dragPans();
    void tooltipOfHoveredBar();
    void synchronisedViews();
    void exports();
    void legendShowsTheTimelinesColours();
    void cornerLabelDropsTheBracketBeforeEliding();

private:
    TimelineView* m_view = nullptr;
};

void TestTimelineView::init()
{
    m_view = new TimelineView;
    m_view->resize(800, 300);
    m_view->setMeasured(twoRanks());
    m_view->setShowCriticalPath(false);
    m_view->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_view));
}

void TestTimelineView::cleanup()
{
    delete m_view;
    m_view = nullptr;
}

void TestTimelineView::barAndBubbleColours()
{
    const QImage image = m_view->grab().toImage();
    const RowGeometry rows = m_view->measuredRowGeometry();
    QCOMPARE(rows.rowCount, 2);
    const QPalette palette = m_view->palette();
    const auto pixel = [&](QPoint p) { return image.pixelColor(p).rgb(); };
    QCOMPARE(pixel(quarterOf(*m_view, rows, 0, 0, 20)), TimelineView::kindColor(ActionKind::Forward, palette).rgb());
    QCOMPARE(pixel(quarterOf(*m_view, rows, 0, 20, 40)), TimelineView::kindColor(ActionKind::Backward, palette).rgb());
    QCOMPARE(pixel(quarterOf(*m_view, rows, 1, 10, 30)), TimelineView::kindColor(ActionKind::Forward, palette).rgb());
    // Bubbles: rank 1's gap [30, 50) and rank 0's tail [40, 80), in their middles.
    const QRgb bubble = TimelineView::bubbleColor(palette).rgb();
    QCOMPARE(pixel(quarterOf(*m_view, rows, 1, 35, 45)), bubble);
    QCOMPARE(pixel(quarterOf(*m_view, rows, 0, 50, 70)), bubble);
    QVERIFY(bubble != palette.color(QPalette::Base).rgb());
    // Four kinds, four colours, none the bubble's.
    QSet<QRgb> colours { bubble };
    for (int k = 0; k < kActionKindCount; ++k)
        colours.insert(TimelineView::kindColor(static_cast<ActionKind>(k), palette).rgb());
    QCOMPARE(colours.size(), 5);
}

void TestTimelineView::frozenShareIsShaded()
{
    const QImage image = m_view->grab().toImage();
    const RowGeometry rows = m_view->measuredRowGeometry();
    const QRgb weight = TimelineView::kindColor(ActionKind::BackwardWeight, m_view->palette()).rgb();
    // W0 [50, 70) is half frozen: its second half is darker in the lower half of the bar.
    const int y = static_cast<int>(rows.rowTop(1) + rows.rowHeight * 0.8);
    const int unfrozenX = static_cast<int>(m_view->mapping().timeToX(52.0));
    const int frozenX = static_cast<int>(m_view->mapping().timeToX(68.0));
    QCOMPARE(image.pixelColor(unfrozenX, y).rgb(), weight);
    const QColor frozen = image.pixelColor(frozenX, y);
    QVERIFY(frozen.rgb() != weight);
    QVERIFY(frozen.lightness() < QColor(weight).lightness());
}

void TestTimelineView::darkPalette()
{
    QPalette dark = m_view->palette();
    dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
    dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
    dark.setColor(QPalette::Text, QColor(0xee, 0xee, 0xee));
    dark.setColor(QPalette::WindowText, QColor(0xee, 0xee, 0xee));
    m_view->setPalette(dark);
    const QImage image = m_view->grab().toImage();
    const RowGeometry rows = m_view->measuredRowGeometry();
    const QColor forward = TimelineView::kindColor(ActionKind::Forward, dark);
    QCOMPARE(image.pixelColor(quarterOf(*m_view, rows, 0, 0, 20)).rgb(), forward.rgb());
    const QColor bubble = TimelineView::bubbleColor(dark);
    QCOMPARE(image.pixelColor(quarterOf(*m_view, rows, 1, 35, 45)).rgb(), bubble.rgb());
    // Still a dark band (not a light-theme pink glaring on black), yet apart from the background.
    QVERIFY(bubble.lightness() < 100);
    QVERIFY(bubble.rgb() != dark.color(QPalette::Base).rgb());
    QVERIFY(std::abs(forward.lightness() - dark.color(QPalette::Base).lightness()) > 60);
    // The empty plotting area outside the rows is the palette's Base.
    QCOMPARE(image.pixelColor(400, m_view->height() - 3).rgb(), dark.color(QPalette::Base).rgb());
}

void TestTimelineView::criticalPathAndDependencies()
{
    TimelineData data = twoRanks();
    data.bars[1].onCriticalPath = true; // 0B0 [20, 40)
    data.dependencies = { { 0, 2 } }; // 0F0 → 1F0
    m_view->setMeasured(data);
    const RowGeometry rows = m_view->measuredRowGeometry();
    const QPoint inside = quarterOf(*m_view, rows, 0, 20, 40);
    const QPoint topEdge(inside.x(), static_cast<int>(std::floor(rows.rowTop(0))));
    const QRgb outline = m_view->palette().color(QPalette::Text).rgb();
    const QRgb backward = TimelineView::kindColor(ActionKind::Backward, m_view->palette()).rgb();

    m_view->setShowCriticalPath(true);
    QImage image = m_view->grab().toImage();
    QCOMPARE(image.pixelColor(topEdge).rgb(), outline);
    QCOMPARE(image.pixelColor(inside).rgb(), backward);
    m_view->setShowCriticalPath(false);
    image = m_view->grab().toImage();
    QCOMPARE(image.pixelColor(topEdge).rgb(), backward);

    // The arrow runs from 0F0's end (20 ms, row 0) to 1F0's start (10 ms, row 1): drawn only on demand.
    const QImage without = m_view->grab().toImage();
    m_view->setShowDependencies(true);
    QVERIFY(m_view->showDependencies());
    const QImage with = m_view->grab().toImage();
    const int x0 = static_cast<int>(m_view->mapping().timeToX(10.0));
    const int x1 = static_cast<int>(m_view->mapping().timeToX(20.0));
    const QRect arrowBox(x0, static_cast<int>(rows.rowTop(0)), x1 - x0 + 1, static_cast<int>(rows.height()));
    QVERIFY(with.copy(arrowBox) != without.copy(arrowBox));
    const QRect elsewhere(static_cast<int>(m_view->mapping().timeToX(45.0)), static_cast<int>(rows.rowTop(0)), 40,
        static_cast<int>(rows.height()));
    QCOMPARE(with.copy(elsewhere), without.copy(elsewhere));
}

void TestTimelineView::stackedPlannedRows()
{
    TimelineData planned = twoRanks();
    planned.bars[0].kind = ActionKind::BackwardInput; // recognisable in the planned block
    planned.label = QStringLiteral("plan");
    m_view->setPlanned(planned);
    m_view->setPlannedMode(TimelineView::PlannedMode::Stacked);
    const RowGeometry measured = m_view->measuredRowGeometry();
    const RowGeometry stacked = m_view->plannedRowGeometry();
    QCOMPARE(stacked.rowCount, 2);
    QVERIFY(stacked.top > measured.top + measured.height());
    const QImage image = m_view->grab().toImage();
    QCOMPARE(image.pixelColor(quarterOf(*m_view, stacked, 0, 0, 20)).rgb(),
        TimelineView::kindColor(ActionKind::BackwardInput, m_view->palette()).rgb());
    QCOMPARE(image.pixelColor(quarterOf(*m_view, measured, 0, 0, 20)).rgb(),
        TimelineView::kindColor(ActionKind::Forward, m_view->palette()).rgb());
    m_view->setPlannedMode(TimelineView::PlannedMode::Overlaid);
    QCOMPARE(m_view->plannedRowGeometry().rowCount, 0);
    m_view->clearPlanned();
    QVERIFY(m_view->planned().empty());
}

// Overlaid, the plan's bars are outlined on the measured rows: an outline where the plan puts a bar
// and the measurement has none (rank 1's W0 planned 10 ms earlier, into its idle gap), and nothing
// more when hidden.
void TestTimelineView::overlaidPlanOutlinesItsBars()
{
    TimelineData planned = twoRanks();
    planned.bars[3].startMs = 40.0;
    planned.bars[3].endMs = 60.0;
    planned.label = QStringLiteral("plan");
    m_view->setPlanned(planned);
    m_view->setPlannedMode(TimelineView::PlannedMode::Hidden);
    const QImage hidden = m_view->grab().toImage();
    m_view->setPlannedMode(TimelineView::PlannedMode::Overlaid);
    const QImage overlaid = m_view->grab().toImage();
    QCOMPARE(overlaid.size(), hidden.size());
    const RowGeometry rows = m_view->measuredRowGeometry();
    const auto differingPixels = [&](double startMs, double endMs, int row) {
        int count = 0;
        const int x0 = static_cast<int>(std::ceil(m_view->mapping().timeToX(startMs)));
        const int x1 = static_cast<int>(std::floor(m_view->mapping().timeToX(endMs)));
        const int y0 = static_cast<int>(std::floor(rows.rowTop(row)));
        const int y1 = static_cast<int>(std::ceil(rows.rowTop(row) + rows.rowHeight));
        for (int y = y0; y <= y1; ++y)
            for (int x = x0; x <= x1; ++x)
                count += overlaid.pixel(x, y) != hidden.pixel(x, y) ? 1 : 0;
        return count;
    };
    // Rank 1 from 42 to 48 ms: idle in the measurement, the planned bar's top and bottom edges.
    QVERIFY2(differingPixels(42.0, 48.0, 1) > 0, "no outline where the plan moved a bar");
    // Rank 0 from 42 to 78 ms: idle in both, nothing drawn.
    QCOMPARE(differingPixels(42.0, 78.0, 0), 0);
    m_view->setPlannedMode(TimelineView::PlannedMode::Hidden);
    QCOMPARE(m_view->grab().toImage(), hidden);
}

// A Shift+drag selection is shaded across every row until Escape clears it.
void TestTimelineView::selectionIsShadedUntilEscape()
{
    const QImage before = m_view->grab().toImage();
    const int from = static_cast<int>(m_view->mapping().timeToX(45.0));
    const int to = static_cast<int>(m_view->mapping().timeToX(75.0));
    QTest::mousePress(m_view, Qt::LeftButton, Qt::ShiftModifier, QPoint(from, 100));
    QTest::mouseMove(m_view, QPoint(to, 100));
    QTest::mouseRelease(m_view, Qt::LeftButton, Qt::ShiftModifier, QPoint(to, 100));
    QVERIFY(m_view->selection().has_value());
    const QImage selected = m_view->grab().toImage();
    const RowGeometry rows = m_view->measuredRowGeometry();
    const int middle = (from + to) / 2;
    for (int row = 0; row < rows.rowCount; ++row) {
        const int y = static_cast<int>(rows.rowTop(row) + rows.rowHeight / 2.0);
        QVERIFY2(selected.pixel(middle, y) != before.pixel(middle, y), qPrintable(QStringLiteral("row %1").arg(row)));
    }
    // Outside the selection nothing changed.
    const int outside = static_cast<int>(m_view->mapping().timeToX(30.0));
    const int y0 = static_cast<int>(rows.rowTop(0) + rows.rowHeight / 2.0);
    QCOMPARE(selected.pixel(outside, y0), before.pixel(outside, y0));
    QTest::keyClick(m_view, Qt::Key_Escape);
    QVERIFY(!m_view->selection().has_value());
    QCOMPARE(m_view->grab().toImage(), before);
}

void TestTimelineView::levelOfDetailLeavesNoHoles()
{
    // 8000 bars of 0.01 ms back to back in 80 ms: about 0.09 px each. Merged or not, every pixel column
    // of the row is painted in one of the two kinds' colours.
    TimelineData data;
    data.rankCount = 1;
    data.stageCount = 1;
    data.batchMs = 80.0;
    for (int i = 0; i < 8000; ++i)
        data.bars.push_back(
            makeBar(0, i % 2 ? ActionKind::Backward : ActionKind::Forward, i, i * 0.01, (i + 1) * 0.01));
    data.rankIdle = computeRankIdle(data.bars, 1, data.batchMs);
    indexTimelineRows(data);
    m_view->setMeasured(data);
    const QRgb forward = TimelineView::kindColor(ActionKind::Forward, m_view->palette()).rgb();
    const QRgb backward = TimelineView::kindColor(ActionKind::Backward, m_view->palette()).rgb();
    for (bool lod : { true, false }) {
        m_view->setLevelOfDetail(lod);
        const QImage image = m_view->renderToImage(m_view->size());
        const RowGeometry rows = m_view->measuredRowGeometry();
        const int y = static_cast<int>(rows.rowTop(0) + rows.rowHeight / 2.0);
        const int x0 = static_cast<int>(std::ceil(m_view->mapping().timeToX(0.0)));
        const int x1 = static_cast<int>(std::floor(m_view->mapping().timeToX(80.0))) - 1;
        QVERIFY(x1 - x0 > 600);
        for (int x = x0; x <= x1; ++x) {
            const QRgb got = image.pixelColor(x, y).rgb();
            QVERIFY2(got == forward || got == backward, qPrintable(QStringLiteral("lod %1, x %2").arg(lod).arg(x)));
        }
    }
}

void TestTimelineView::wheelZoomsAroundCursor_data()
{
    QTest::addColumn<double>("x");
    QTest::addColumn<int>("angle");
    QTest::addColumn<int>("modifiers");
    QTest::addColumn<bool>("pan");
    QTest::newRow("in, middle") << 400.0 << 120 << int(Qt::NoModifier) << false;
    QTest::newRow("in, near the left") << 100.0 << 240 << int(Qt::NoModifier) << false;
    QTest::newRow("ctrl zooms too") << 600.0 << 120 << int(Qt::ControlModifier) << false;
    QTest::newRow("shift pans") << 400.0 << -120 << int(Qt::ShiftModifier) << true;
}

void TestTimelineView::wheelZoomsAroundCursor()
{
    QFETCH(double, x);
    QFETCH(int, angle);
    QFETCH(int, modifiers);
    QFETCH(bool, pan);
    m_view->setVisibleRange(20.0, 60.0); // room to pan either way
    TimeAxisMapping want = m_view->mapping();
    if (pan)
        want.pan(-angle / 120.0 * 0.1 * want.pixelWidth());
    else
        want.zoomAt(x, std::pow(1.25, angle / 120.0));
    QSignalSpy changed(m_view, &TimelineView::visibleRangeChanged);
    sendWheel(*m_view, QPointF(x, 100.0), angle, Qt::KeyboardModifiers(modifiers));
    COMPARE_RANGE(m_view->visibleRange(), std::make_pair(want.startMs(), want.endMs()));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(changed.at(0).at(0).toDouble(), m_view->visibleRange().first);
}

void TestTimelineView::keysNavigate_data()
{
    QTest::addColumn<int>("key");
    QTest::newRow("W zooms in") << int(Qt::Key_W);
    QTest::newRow("S zooms out") << int(Qt::Key_S);
    QTest::newRow("A pans earlier") << int(Qt::Key_A);
    QTest::newRow("D pans later") << int(Qt::Key_D);
    QTest::newRow("0 fits") << int(Qt::Key_0);
    QTest::newRow("Home fits") << int(Qt::Key_Home);
}

void TestTimelineView::keysNavigate()
{
    QFETCH(int, key);
    m_view->setVisibleRange(20.0, 60.0);
    TimeAxisMapping want = m_view->mapping();
    const double centre = want.leftMargin() + want.pixelWidth() / 2.0;
    switch (key) {
    case Qt::Key_W:
        want.zoomAt(centre, 1.5);
        break;
    case Qt::Key_S:
        want.zoomAt(centre, 1.0 / 1.5);
        break;
    case Qt::Key_A:
        want.pan(-0.1 * want.pixelWidth());
        break;
    case Qt::Key_D:
        want.pan(0.1 * want.pixelWidth());
        break;
    default:
        want.fit();
    }
    QTest::keyClick(m_view, Qt::Key(key));
    COMPARE_RANGE(m_view->visibleRange(), std::make_pair(want.startMs(), want.endMs()));
    QVERIFY(!sameRange(m_view->visibleRange(), { 20.0, 60.0 }));
}

void TestTimelineView::zoomBackAndForward()
{
    const auto fitted = m_view->visibleRange();
    COMPARE_RANGE(fitted, std::make_pair(0.0, 80.0));
    QVERIFY(!m_view->canZoomBack());
    QTest::keyClick(m_view, Qt::Key_W);
    const auto once = m_view->visibleRange();
    QTest::keyClick(m_view, Qt::Key_W);
    const auto twice = m_view->visibleRange();
    QTest::keyClick(m_view, Qt::Key_D); // a pan: no history entry
    const auto panned = m_view->visibleRange();
    QVERIFY(!sameRange(panned, twice));
    QVERIFY(m_view->canZoomBack());
    QVERIFY(!m_view->canZoomForward());

    m_view->zoomBack();
    COMPARE_RANGE(m_view->visibleRange(), once);
    QTest::keyClick(m_view, Qt::Key_Left, Qt::AltModifier);
    COMPARE_RANGE(m_view->visibleRange(), fitted);
    QVERIFY(!m_view->canZoomBack());
    QVERIFY(m_view->canZoomForward());
    m_view->zoomForward();
    COMPARE_RANGE(m_view->visibleRange(), once);
    QTest::keyClick(m_view, Qt::Key_Right, Qt::AltModifier);
    COMPARE_RANGE(m_view->visibleRange(), panned);
    QVERIFY(!m_view->canZoomForward());
    QTest::keyClick(m_view, Qt::Key_Backspace);
    COMPARE_RANGE(m_view->visibleRange(), once);
    // A new zoom drops the forward entries.
    QTest::keyClick(m_view, Qt::Key_S);
    QVERIFY(!m_view->canZoomForward());
}

void TestTimelineView::wheelNotchesAreOneUndoStep()
{
    const auto before = m_view->visibleRange();
    for (int i = 0; i < 3; ++i)
        sendWheel(*m_view, QPointF(400.0, 100.0), 120);
    QVERIFY(m_view->visibleRange().second - m_view->visibleRange().first < 80.0 / 1.9);
    m_view->zoomBack();
    COMPARE_RANGE(m_view->visibleRange(), before);
    QVERIFY(!m_view->canZoomBack());
}

void TestTimelineView::dragSelectEmitsRange_data()
{
    QTest::addColumn<int>("button");
    QTest::addColumn<int>("modifiers");
    QTest::addColumn<int>("from");
    QTest::addColumn<int>("to");
    QTest::newRow("shift+left, rightwards") << int(Qt::LeftButton) << int(Qt::ShiftModifier) << 200 << 500;
    QTest::newRow("right button, leftwards") << int(Qt::RightButton) << int(Qt::NoModifier) << 600 << 150;
}

void TestTimelineView::dragSelectEmitsRange()
{
    QFETCH(int, button);
    QFETCH(int, modifiers);
    QFETCH(int, from);
    QFETCH(int, to);
    m_view->setVisibleRange(10.0, 70.0);
    const auto rangeBefore = m_view->visibleRange();
    QSignalSpy selected(m_view, &TimelineView::rangeSelected);
    const auto mouseButton = Qt::MouseButton(button);
    const auto mods = Qt::KeyboardModifiers(modifiers);
    QTest::mousePress(m_view, mouseButton, mods, QPoint(from, 100));
    QTest::mouseMove(m_view, QPoint((from + to) / 2, 100));
    QTest::mouseMove(m_view, QPoint(to, 100));
    QTest::mouseRelease(m_view, mouseButton, mods, QPoint(to, 100));
    QCOMPARE(selected.count(), 1);
    const double a = m_view->mapping().xToTime(std::min(from, to));
    const double b = m_view->mapping().xToTime(std::max(from, to));
    QVERIFY(std::abs(selected.at(0).at(0).toDouble() - a) < 1e-9);
    QVERIFY(std::abs(selected.at(0).at(1).toDouble() - b) < 1e-9);
    QVERIFY(m_view->selection().has_value());
    COMPARE_RANGE(*m_view->selection(), std::make_pair(a, b));
    COMPARE_RANGE(m_view->visibleRange(), rangeBefore); // selecting does not pan
    // A plain click clears the selection and emits nothing.
    QTest::mouseClick(m_view, Qt::LeftButton, Qt::NoModifier, QPoint(300, 100));
    QVERIFY(!m_view->selection().has_value());
    QCOMPARE(selected.count(), 1);
}

void TestTimelineView::dragPans()
{
    m_view->setVisibleRange(20.0, 40.0);
    TimeAxisMapping want = m_view->mapping();
    want.pan(100.0); // dragging 100 px to the left shows later times
    QTest::mousePress(m_view, Qt::LeftButton, Qt::NoModifier, QPoint(400, 100));
    QTest::mouseMove(m_view, QPoint(350, 100));
    QTest::mouseMove(m_view, QPoint(300, 100));
    QTest::mouseRelease(m_view, Qt::LeftButton, Qt::NoModifier, QPoint(300, 100));
    COMPARE_RANGE(m_view->visibleRange(), std::make_pair(want.startMs(), want.endMs()));
}

void TestTimelineView::tooltipOfHoveredBar()
{
    const RowGeometry rows = m_view->measuredRowGeometry();
    const QPoint onWeight = quarterOf(*m_view, rows, 1, 50, 70);
    const QString text = m_view->toolTipAt(onWeight);
    QVERIFY2(text.contains(QStringLiteral("stage 1, microbatch 0, W")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("start 50.000 ms, duration 20.000 ms")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("freeze ratio 50.0 %")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("frozen tensors 2 / 4")), qPrintable(text));
    const QString forward = m_view->toolTipAt(quarterOf(*m_view, rows, 0, 0, 20));
    QVERIFY2(forward.contains(QStringLiteral("stage 0, microbatch 0, F")), qPrintable(forward));
    QVERIFY(!forward.contains(QStringLiteral("freeze ratio")));
    QVERIFY(m_view->toolTipAt(quarterOf(*m_view, rows, 1, 35, 45)).isEmpty()); // a bubble

    // Through the real event: Qt shows the same text.
    QHelpEvent help(QEvent::ToolTip, onWeight, m_view->mapToGlobal(onWeight));
    QApplication::sendEvent(m_view, &help);
    QTRY_COMPARE(QToolTip::text(), text);
}

void TestTimelineView::synchronisedViews()
{
    TimelineView other;
    other.resize(800, 300);
    other.setMeasured(twoRanks());
    connect(m_view, &TimelineView::visibleRangeChanged, &other, &TimelineView::setVisibleRange);
    connect(&other, &TimelineView::visibleRangeChanged, m_view, &TimelineView::setVisibleRange);
    QTest::keyClick(m_view, Qt::Key_W);
    COMPARE_RANGE(other.visibleRange(), m_view->visibleRange());
    other.setVisibleRange(5.0, 15.0);
    COMPARE_RANGE(m_view->visibleRange(), std::make_pair(5.0, 15.0));
}

void TestTimelineView::exports()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QString error;
    const QString png = dir.filePath(QStringLiteral("timeline.png"));
    QVERIFY2(m_view->exportPng(png, &error), qPrintable(error));
    QImage image;
    QVERIFY(image.load(png));
    QCOMPARE(image.size(), m_view->size());
    const RowGeometry rows = m_view->measuredRowGeometry();
    QCOMPARE(image.pixelColor(quarterOf(*m_view, rows, 0, 20, 40)).rgb(),
        TimelineView::kindColor(ActionKind::Backward, m_view->palette()).rgb());

    const QString svg = dir.filePath(QStringLiteral("timeline.svg"));
    QVERIFY2(m_view->exportSvg(svg, &error), qPrintable(error));
    QSvgRenderer renderer(svg);
    QVERIFY(renderer.isValid());
    QCOMPARE(renderer.viewBox(), QRect(QPoint(0, 0), m_view->size()));
    // Drawn back at the view's size, the SVG has the bar where the widget has it.
    QImage drawn(m_view->size(), QImage::Format_ARGB32);
    drawn.fill(Qt::transparent);
    QPainter painter(&drawn);
    renderer.render(&painter);
    painter.end();
    QCOMPARE(drawn.pixelColor(quarterOf(*m_view, rows, 0, 20, 40)).rgb(),
        TimelineView::kindColor(ActionKind::Backward, m_view->palette()).rgb());

    QVERIFY(!m_view->exportPng(dir.filePath(QStringLiteral("missing/dir/x.png")), &error));
    QVERIFY(!error.isEmpty());
}

namespace {
// Whether `image` has a pixel of exactly `color`.
bool contains(const QImage& image, QColor color)
{
    const QRgb wanted = color.rgb();
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            if (image.pixel(x, y) == wanted)
                return true;
        }
    }
    return false;
}
} // namespace

// The legend paints every kind's colour, the frozen shade, the bubble and the critical path's
// outline as the timeline does, for light and dark palettes; one too narrow for all leaves the
// last entries out rather than squeezing them.
void TestTimelineView::legendShowsTheTimelinesColours()
{
    TimelineLegend legend;
    for (const bool dark : { false, true }) {
        QPalette palette;
        if (dark) {
            palette.setColor(QPalette::Window, QColor(35, 35, 35));
            palette.setColor(QPalette::Base, QColor(25, 25, 25));
            palette.setColor(QPalette::WindowText, QColor(230, 230, 230));
        }
        // A colour no text or swatch has: only the critical path's outline can paint it.
        palette.setColor(QPalette::Text, dark ? QColor(250, 240, 10) : QColor(10, 20, 200));
        legend.setPalette(palette);
        legend.resize(legend.sizeHint());
        const QImage image = legend.grab().toImage();
        const QList<TimelineLegend::Entry> entries = legend.entries();
        QCOMPARE(entries.size(), 7);
        for (int k = 0; k < kActionKindCount; ++k) {
            const auto kind = static_cast<ActionKind>(k);
            QCOMPARE(entries[k].color, TimelineView::kindColor(kind, palette));
            QVERIFY2(contains(image, TimelineView::kindColor(kind, palette)), qPrintable(entries[k].text));
        }
        QVERIFY(contains(image, TimelineView::frozenColor(ActionKind::Backward, palette)));
        QVERIFY(contains(image, TimelineView::bubbleColor(palette)));
        QVERIFY(contains(image, palette.color(QPalette::Text)));

        // Half as wide: the forward swatch stays, the bubble's (sixth) goes.
        legend.resize(legend.sizeHint().width() / 2, legend.sizeHint().height());
        const QImage half = legend.grab().toImage();
        QVERIFY(contains(half, TimelineView::kindColor(ActionKind::Forward, palette)));
        QVERIFY(!contains(half, TimelineView::bubbleColor(palette)));
    }
}

// The label over the row labels: "step 201 (measured)" did not fit and read "step 201 (…".
void TestTimelineView::cornerLabelDropsTheBracketBeforeEliding()
{
    const QFontMetrics metrics(QApplication::font());
    const QString label = QStringLiteral("step 201 (measured)");
    const int whole = metrics.horizontalAdvance(label);
    const int step = metrics.horizontalAdvance(QStringLiteral("step 201"));
    QCOMPARE(TimelineView::cornerLabel(label, metrics, whole), label);
    QCOMPARE(TimelineView::cornerLabel(label, metrics, whole - 1), QStringLiteral("step 201"));
    QCOMPARE(TimelineView::cornerLabel(label, metrics, step), QStringLiteral("step 201"));
    // Too narrow even for that: elided, never wider than the room.
    const QString elided = TimelineView::cornerLabel(label, metrics, step - 1);
    QVERIFY2(elided.endsWith(QChar(0x2026)), qPrintable(elided));
    QVERIFY(metrics.horizontalAdvance(elided) <= step - 1);
    // No bracket: elided as before.
    QCOMPARE(TimelineView::cornerLabel(QStringLiteral("plan ρ=0.90"), metrics, 10),
        metrics.elidedText(QStringLiteral("plan ρ=0.90"), Qt::ElideRight, 10));
}

QTEST_MAIN(TestTimelineView)
#include "tst_timelineview.moc"
