#include "ui/placeholder_table_view.h"

#include <QStandardItemModel>
#include <QtTest>

using namespace tfreeze;

namespace {

// What the viewport shows, painted now.
QImage viewportImage(PlaceholderTableView& view)
{
    QCoreApplication::sendPostedEvents();
    QCoreApplication::processEvents();
    return view.viewport()->grab().toImage();
}

// Whether any pixel of the image differs from its top-left one (the viewport's background).
bool hasInk(const QImage& image)
{
    const QRgb background = image.pixel(0, 0);
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            if (image.pixel(x, y) != background)
                return true;
        }
    }
    return false;
}

} // namespace

class TestPlaceholderTableView : public QObject {
    Q_OBJECT

private slots:
    void showsTheTextOnlyWhileTheModelIsEmpty()
    {
        QStandardItemModel model(0, 2);
        PlaceholderTableView view;
        view.resize(300, 200);
        view.setModel(&model);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));

        // No text set: an empty table paints nothing in its viewport.
        QVERIFY(!view.isPlaceholderShown());
        QVERIFY(!hasInk(viewportImage(view)));

        view.setPlaceholderText(QStringLiteral("No range selected."));
        QVERIFY(view.isPlaceholderShown());
        QVERIFY(hasInk(viewportImage(view)));

        // The first row hides it: the viewport then looks as it would without any text.
        model.appendRow({ new QStandardItem(QStringLiteral("stage 0")), new QStandardItem(QStringLiteral("F")) });
        QVERIFY(!view.isPlaceholderShown());
        const QImage withRow = viewportImage(view);
        view.setPlaceholderText(QString());
        QCOMPARE(viewportImage(view), withRow);
        view.setPlaceholderText(QStringLiteral("No range selected."));

        // Removing the last row, or a reset to nothing, shows it again.
        model.removeRow(0);
        QVERIFY(view.isPlaceholderShown());
        QVERIFY(hasInk(viewportImage(view)));
        model.appendRow(new QStandardItem(QStringLiteral("x")));
        QVERIFY(!view.isPlaceholderShown());
        model.clear();
        QVERIFY(view.isPlaceholderShown());
    }

    void followsTheCurrentModelOnly()
    {
        QStandardItemModel first;
        QStandardItemModel second;
        second.appendRow(new QStandardItem(QStringLiteral("a run")));
        PlaceholderTableView view;
        view.setPlaceholderText(QStringLiteral("No runs yet."));
        QVERIFY(view.isPlaceholderShown()); // no model at all
        view.setModel(&first);
        QVERIFY(view.isPlaceholderShown());
        view.setModel(&second);
        QVERIFY(!view.isPlaceholderShown());
        // Rows of the model it left no longer count.
        first.appendRow(new QStandardItem(QStringLiteral("elsewhere")));
        second.clear();
        QVERIFY(view.isPlaceholderShown());
    }
};

QTEST_MAIN(TestPlaceholderTableView)
#include "tst_placeholdertableview.moc"
