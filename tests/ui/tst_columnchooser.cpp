#include "ui/column_chooser.h"

#include <QHeaderView>
#include <QMenu>
#include <QStandardItemModel>
#include <QTableView>
#include <QtTest>

using namespace tfreeze;

class TestColumnChooser : public QObject {
    Q_OBJECT

private slots:
    void hidesAndShowsColumns()
    {
        QStandardItemModel model(2, 3);
        model.setHorizontalHeaderLabels({ QStringLiteral("Name"), QStringLiteral("Status"), QStringLiteral("Notes") });
        QTableView view;
        view.setModel(&model);
        QHeaderView* header = view.horizontalHeader();
        enableColumnChooser(header);
        QCOMPARE(header->contextMenuPolicy(), Qt::CustomContextMenu);

        // The columns in the order the user sees them: Notes moved to the front.
        header->moveSection(2, 0);
        QMenu* menu = columnChooserMenu(header, &view);
        QList<QAction*> actions = menu->actions();
        QCOMPARE(actions.size(), 3);
        QCOMPARE(actions[0]->text(), QStringLiteral("Notes"));
        QCOMPARE(actions[1]->text(), QStringLiteral("Name"));
        for (QAction* action : actions)
            QVERIFY(action->isCheckable() && action->isChecked() && action->isEnabled());

        // Unchecking hides the column; checking shows it again.
        actions[0]->setChecked(false);
        QVERIFY(header->isSectionHidden(2));
        actions[0]->setChecked(true);
        QVERIFY(!header->isSectionHidden(2));

        // Down to one column: its entry cannot be unchecked.
        actions[0]->setChecked(false);
        actions[2]->setChecked(false);
        QVERIFY(header->isSectionHidden(2) && header->isSectionHidden(1) && !header->isSectionHidden(0));
        menu = columnChooserMenu(header, &view);
        actions = menu->actions();
        QVERIFY(!actions[0]->isChecked() && !actions[2]->isChecked());
        QVERIFY(actions[1]->isChecked());
        QVERIFY(!actions[1]->isEnabled());
        actions[1]->setChecked(false); // as a stray toggle would: still shown
        QVERIFY(!header->isSectionHidden(0));
    }

    void noModelGivesAnEmptyMenu()
    {
        QHeaderView header(Qt::Horizontal);
        QMenu* menu = columnChooserMenu(&header, nullptr);
        QVERIFY(menu->actions().isEmpty());
        delete menu;
    }
};

QTEST_MAIN(TestColumnChooser)
#include "tst_columnchooser.moc"
