#include "ui/time_axis_mapping.h"

#include <QtTest>

#include <cmath>
#include <optional>

using namespace tfreeze;

namespace {

// One rank (or two), V = 1, bars placed by hand; indexTimelineRows sorts them as the builders do.
TimelineData handData(int ranks)
{
    TimelineData data;
    data.rankCount = ranks;
    data.stageCount = ranks;
    data.batchMs = 100.0;
    const auto add = [&](int rank, ActionKind kind, double start, double end) {
        TimelineBar bar;
        bar.rank = rank;
        bar.stage = rank;
        bar.kind = kind;
        bar.startMs = start;
        bar.endMs = end;
        data.bars.push_back(bar);
    };
    add(0, ActionKind::Forward, 0.0, 10.0); // bar 0
    add(0, ActionKind::Backward, 10.0, 20.0); // bar 1, touches bar 0
    add(0, ActionKind::Forward, 30.0, 40.0); // bar 2, after a 10 ms gap
    add(0, ActionKind::BackwardWeight, 50.0, 50.001); // bar 3, 1 µs: 0.01 px at 0.1 ms/px
    if (ranks > 1)
        add(1, ActionKind::Forward, 5.0, 15.0); // bar 4
    indexTimelineRows(data);
    return data;
}

} // namespace

class TestTimeAxisMapping : public QObject {
    Q_OBJECT

private slots:
    void roundTrip_data();
    void roundTrip();
    void zoomKeepsAnchor_data();
    void zoomKeepsAnchor();
    void clamping_data();
    void clamping();
    void pan_data();
    void pan();
    void rowAtY_data();
    void rowAtY();
    void hitTest_data();
    void hitTest();
    void tinyBarWhenZoomedOut();
    void niceTickStep_data();
    void niceTickStep();
    void tickLabelStaysInside_data();
    void tickLabelStaysInside();
};

void TestTimeAxisMapping::roundTrip_data()
{
    QTest::addColumn<double>("total");
    QTest::addColumn<double>("width");
    QTest::addColumn<double>("margin");
    QTest::addColumn<double>("start");
    QTest::addColumn<double>("end");
    QTest::addColumn<double>("time");
    QTest::addColumn<double>("x"); // by hand: margin + (time − start) / (end − start) · width

    QTest::newRow("min time") << 100.0 << 1000.0 << 0.0 << 0.0 << 100.0 << 0.0 << 0.0;
    QTest::newRow("max time") << 100.0 << 1000.0 << 0.0 << 0.0 << 100.0 << 100.0 << 1000.0;
    QTest::newRow("with margin") << 100.0 << 1000.0 << 72.0 << 0.0 << 100.0 << 25.0 << 322.0;
    QTest::newRow("zoomed window") << 100.0 << 800.0 << 50.0 << 40.0 << 60.0 << 45.0 << 250.0;
    QTest::newRow("left of window") << 100.0 << 800.0 << 50.0 << 40.0 << 60.0 << 30.0 << -350.0;
    QTest::newRow("sub-ms window") << 2.0 << 1000.0 << 10.0 << 1.0 << 1.004 << 1.001 << 260.0;
}

void TestTimeAxisMapping::roundTrip()
{
    QFETCH(double, total);
    QFETCH(double, width);
    QFETCH(double, margin);
    QFETCH(double, start);
    QFETCH(double, end);
    QFETCH(double, time);
    QFETCH(double, x);
    TimeAxisMapping mapping(total, width, margin);
    mapping.setRange(start, end);
    QCOMPARE(mapping.startMs(), start);
    QCOMPARE(mapping.endMs(), end);
    QVERIFY(std::abs(mapping.timeToX(time) - x) < 1e-6);
    QVERIFY(std::abs(mapping.xToTime(x) - time) < 1e-9);
    QVERIFY(std::abs(mapping.xToTime(mapping.timeToX(time)) - time) < 1e-9);
}

void TestTimeAxisMapping::zoomKeepsAnchor_data()
{
    QTest::addColumn<double>("start");
    QTest::addColumn<double>("end");
    QTest::addColumn<double>("anchorX");
    QTest::addColumn<double>("factor");
    QTest::addColumn<double>("wantStart");
    QTest::addColumn<double>("wantEnd");

    // total 100 ms over 1000 px after a 50 px margin. At x = 300 the time is 25 ms, a quarter of
    // the way; halving the span to 50 keeps 25 ms a quarter in: start 25 − 12.5.
    QTest::newRow("in at a quarter") << 0.0 << 100.0 << 300.0 << 2.0 << 12.5 << 62.5;
    QTest::newRow("in at the left edge") << 0.0 << 100.0 << 50.0 << 2.0 << 0.0 << 50.0;
    QTest::newRow("in at the right edge") << 0.0 << 100.0 << 1050.0 << 4.0 << 75.0 << 100.0;
    // From [20, 40]: x = 550 is 30 ms; span 10 → [25, 35].
    QTest::newRow("in, zoomed already") << 20.0 << 40.0 << 550.0 << 2.0 << 25.0 << 35.0;
    // From [20, 40] out by 2 at x = 250 (24 ms, a fifth in): span 40, start 24 − 8 = 16.
    QTest::newRow("out, anchored") << 20.0 << 40.0 << 250.0 << 0.5 << 16.0 << 56.0;
    // Out past the total: the whole batch, wherever the anchor.
    QTest::newRow("out, clamped to total") << 12.5 << 62.5 << 300.0 << 0.25 << 0.0 << 100.0;
    // Out near the left end: span 40 wanted from [2, 22] at x = 550 (12 ms): start −8 → shifted to 0.
    QTest::newRow("out, shifted at 0") << 2.0 << 22.0 << 550.0 << 0.5 << 0.0 << 40.0;
    // In beyond the minimum span: 1 µs centred on 50 ms.
    QTest::newRow("in, minimum span") << 0.0 << 100.0 << 550.0 << 1e9 << 49.9995 << 50.0005;
}

void TestTimeAxisMapping::zoomKeepsAnchor()
{
    QFETCH(double, start);
    QFETCH(double, end);
    QFETCH(double, anchorX);
    QFETCH(double, factor);
    QFETCH(double, wantStart);
    QFETCH(double, wantEnd);
    TimeAxisMapping mapping(100.0, 1000.0, 50.0);
    mapping.setRange(start, end);
    const double anchorTime = mapping.xToTime(anchorX);
    mapping.zoomAt(anchorX, factor);
    QVERIFY2(std::abs(mapping.startMs() - wantStart) < 1e-9, qPrintable(QString::number(mapping.startMs(), 'g', 17)));
    QVERIFY2(std::abs(mapping.endMs() - wantEnd) < 1e-9, qPrintable(QString::number(mapping.endMs(), 'g', 17)));
    const bool clamped = wantStart == 0.0 || wantEnd == 100.0;
    if (!clamped)
        QVERIFY(std::abs(mapping.xToTime(anchorX) - anchorTime) < 1e-9);
}

void TestTimeAxisMapping::clamping_data()
{
    QTest::addColumn<double>("start");
    QTest::addColumn<double>("end");
    QTest::addColumn<double>("wantStart");
    QTest::addColumn<double>("wantEnd");

    QTest::newRow("before 0") << -10.0 << 20.0 << 0.0 << 30.0;
    QTest::newRow("past the end") << 90.0 << 120.0 << 70.0 << 100.0;
    QTest::newRow("wider than total") << -5.0 << 200.0 << 0.0 << 100.0;
    QTest::newRow("empty span") << 5.0 << 5.0 << 5.0 << 5.001;
    QTest::newRow("reversed") << 60.0 << 40.0 << 40.0 << 60.0;
    QTest::newRow("minimum span at the end") << 100.0 << 100.0 << 99.999 << 100.0;
}

void TestTimeAxisMapping::clamping()
{
    QFETCH(double, start);
    QFETCH(double, end);
    QFETCH(double, wantStart);
    QFETCH(double, wantEnd);
    TimeAxisMapping mapping(100.0, 1000.0);
    mapping.setRange(start, end);
    QVERIFY2(std::abs(mapping.startMs() - wantStart) < 1e-9, qPrintable(QString::number(mapping.startMs(), 'g', 17)));
    QVERIFY2(std::abs(mapping.endMs() - wantEnd) < 1e-9, qPrintable(QString::number(mapping.endMs(), 'g', 17)));
}

void TestTimeAxisMapping::pan_data()
{
    QTest::addColumn<double>("pixels");
    QTest::addColumn<double>("wantStart");

    // [20, 70] over 1000 px: 0.05 ms per pixel.
    QTest::newRow("later") << 100.0 << 25.0;
    QTest::newRow("earlier") << -100.0 << 15.0;
    QTest::newRow("stops at 0") << -1000.0 << 0.0;
    QTest::newRow("stops at the end") << 2000.0 << 50.0;
}

void TestTimeAxisMapping::pan()
{
    QFETCH(double, pixels);
    QFETCH(double, wantStart);
    TimeAxisMapping mapping(100.0, 1000.0, 30.0);
    mapping.setRange(20.0, 70.0);
    mapping.pan(pixels);
    QVERIFY(std::abs(mapping.startMs() - wantStart) < 1e-9);
    QVERIFY(std::abs(mapping.spanMs() - 50.0) < 1e-9);
}

void TestTimeAxisMapping::rowAtY_data()
{
    QTest::addColumn<double>("y");
    QTest::addColumn<int>("row"); // −1: none
    QTest::addColumn<int>("rank");

    // top 20, rows of 10, 4 px between ranks, 2 stages per rank, 3 ranks: a rank every 24 px.
    QTest::newRow("above") << 19.99 << -1 << -1;
    QTest::newRow("first row top") << 20.0 << 0 << 0;
    QTest::newRow("first row bottom") << 29.99 << 0 << 0;
    QTest::newRow("second row top") << 30.0 << 1 << 0;
    QTest::newRow("gap start") << 40.0 << -1 << -1;
    QTest::newRow("gap end") << 43.99 << -1 << -1;
    QTest::newRow("second rank") << 44.0 << 2 << 1;
    QTest::newRow("last row") << 87.99 << 5 << 2;
    QTest::newRow("below") << 88.0 << -1 << -1;
    QTest::newRow("far below") << 500.0 << -1 << -1;
}

void TestTimeAxisMapping::rowAtY()
{
    QFETCH(double, y);
    QFETCH(int, row);
    QFETCH(int, rank);
    RowGeometry rows;
    rows.top = 20.0;
    rows.rowHeight = 10.0;
    rows.rankGap = 4.0;
    rows.stagesPerRank = 2;
    rows.rowCount = 6;
    QCOMPARE(tfreeze::rowAtY(rows, y).value_or(-1), row);
    QCOMPARE(tfreeze::rankAtY(rows, y).value_or(-1), rank);
    if (row >= 0) {
        QVERIFY(rows.rowTop(row) <= y);
        QVERIFY(y < rows.rowTop(row) + rows.rowHeight);
    }
    QCOMPARE(rows.height(), 6 * 10.0 + 2 * 4.0);
}

void TestTimeAxisMapping::hitTest_data()
{
    QTest::addColumn<double>("x");
    QTest::addColumn<double>("y");
    QTest::addColumn<int>("bar"); // −1: none

    // 100 ms over 1000 px, no margin: 10 px per ms. Rank 0 in y [0, 10), rank 1 in [12, 22).
    QTest::newRow("inside first") << 50.0 << 5.0 << 0;
    QTest::newRow("shared edge belongs to the later bar") << 100.0 << 5.0 << 1;
    QTest::newRow("just before the edge") << 99.9 << 5.0 << 0;
    QTest::newRow("middle of a gap") << 250.0 << 5.0 << -1;
    QTest::newRow("within slop after a bar") << 202.0 << 5.0 << 1;
    QTest::newRow("past the slop") << 204.0 << 5.0 << -1;
    QTest::newRow("tiny bar") << 500.0 << 5.0 << 3;
    QTest::newRow("beside a tiny bar") << 502.5 << 5.0 << 3;
    QTest::newRow("too far from a tiny bar") << 504.0 << 5.0 << -1;
    QTest::newRow("second rank") << 100.0 << 15.0 << 4;
    QTest::newRow("gap between ranks") << 100.0 << 11.0 << -1;
    QTest::newRow("below all rows") << 100.0 << 30.0 << -1;
    QTest::newRow("before time 0") << -10.0 << 5.0 << -1;
}

void TestTimeAxisMapping::hitTest()
{
    QFETCH(double, x);
    QFETCH(double, y);
    QFETCH(int, bar);
    const TimelineData data = handData(2);
    const TimeAxisMapping mapping(100.0, 1000.0, 0.0);
    const RowGeometry rows = makeRowGeometry(data, 0.0, 10.0, 2.0);
    const auto hit = hitTestBar(data, mapping, rows, QPointF(x, y));
    QCOMPARE(hit ? static_cast<int>(*hit) : -1, bar);
}

void TestTimeAxisMapping::tinyBarWhenZoomedOut()
{
    // A 1 µs bar in a 100 s axis is 1e-5 px wide: still found at its pixel, and not one slop further.
    TimelineData data = handData(1);
    data.batchMs = 100000.0;
    TimeAxisMapping mapping(100000.0, 1000.0, 0.0);
    const RowGeometry rows = makeRowGeometry(data, 0.0, 10.0, 2.0);
    // Bars 0..2 are within [0, 40] ms = 0.4 px: the tiny bar at 50 ms sits at x = 0.5.
    const auto atPixel = hitTestBar(data, mapping, rows, QPointF(0.5, 5.0));
    QVERIFY(atPixel.has_value());
    QVERIFY(std::abs(mapping.timeToX(data.bars[*atPixel].startMs) - 0.5) <= kHitSlopPx);
    QVERIFY(!hitTestBar(data, mapping, rows, QPointF(0.5 + kHitSlopPx + 1.0, 5.0)).has_value());
    mapping.setRange(49.9995, 50.0015); // zoomed on the tiny bar: 2 µs across 1000 px
    const auto zoomed = hitTestBar(data, mapping, rows, QPointF(mapping.timeToX(50.0005), 5.0));
    QCOMPARE(zoomed.value_or(99), std::size_t { 3 });
}

void TestTimeAxisMapping::niceTickStep_data()
{
    QTest::addColumn<double>("total");
    QTest::addColumn<double>("spacing");
    QTest::addColumn<double>("step");

    // 1000 px: the smallest step is total / 1000 · spacing, rounded up to 1, 2 or 5 · 10^k.
    QTest::newRow("exactly 10") << 100.0 << 100.0 << 10.0;
    QTest::newRow("9 -> 10") << 100.0 << 90.0 << 10.0;
    QTest::newRow("1.8 -> 2") << 20.0 << 90.0 << 2.0;
    QTest::newRow("3.33 -> 5") << 37.0 << 90.0 << 5.0;
    QTest::newRow("0.09 -> 0.1") << 1.0 << 90.0 << 0.1;
    QTest::newRow("exactly 0.2") << 2.0 << 100.0 << 0.2;
    QTest::newRow("5.4 s -> 10 s") << 60000.0 << 90.0 << 10000.0;
}

void TestTimeAxisMapping::niceTickStep()
{
    QFETCH(double, total);
    QFETCH(double, spacing);
    QFETCH(double, step);
    const TimeAxisMapping mapping(total, 1000.0, 40.0);
    const double got = niceTickStepMs(mapping, spacing);
    QVERIFY2(std::abs(got - step) < 1e-12 * step, qPrintable(QString::number(got, 'g', 17)));
}

void TestTimeAxisMapping::tickLabelStaysInside_data()
{
    QTest::addColumn<double>("tickX");
    QTest::addColumn<double>("width");
    QTest::addColumn<double>("left");

    // A 1000 px wide view, labels 3 px from their tick.
    QTest::newRow("room on the right") << 500.0 << 40.0 << 503.0;
    QTest::newRow("ends exactly at the edge") << 957.0 << 40.0 << 960.0;
    QTest::newRow("one px over: moved in") << 958.0 << 40.0 << 960.0;
    QTest::newRow("tick at the edge") << 1000.0 << 40.0 << 960.0;
}

void TestTimeAxisMapping::tickLabelStaysInside()
{
    QFETCH(double, tickX);
    QFETCH(double, width);
    QFETCH(double, left);
    const double got = tickLabelLeft(tickX, width, 1000.0);
    QCOMPARE(got, left);
    // Never over the edge, and still over or right of its tick where it fits there.
    QVERIFY(got + width <= 1000.0);
    QVERIFY(got <= tickX + 3.0 && got + width >= std::min(tickX, 1000.0 - width));
}

QTEST_GUILESS_MAIN(TestTimeAxisMapping)
#include "tst_timeaxismapping.moc"
