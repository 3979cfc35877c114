#pragma once

#include "ui/placeholder_table_view.h"
#include "ui/run_history_loader.h"

#include <QWidget>

class QAction;
class QLabel;
class QLineEdit;
class QSortFilterProxyModel;

namespace tfreeze {

class RunHistoryModel;

// The run history page: a filter box over a sortable table of runs, and the actions on them.
// Every database access goes through a RunHistoryLoader (off the GUI thread); a database that
// cannot be read shows its message above the table instead of the rows.
//
// Keys: Enter or double-click opens, Del deletes (after a confirmation naming the run), F2 renames,
// F5 reloads. Compare needs exactly two selected runs; A is the older (lower id). Check Database
// reads the whole file for damage (a list reads only the pages it needs) and says what it found.
class RunHistoryBrowser : public QWidget {
    Q_OBJECT

public:
    explicit RunHistoryBrowser(QWidget* parent = nullptr);
    ~RunHistoryBrowser() override;

    void setDatabasePath(const QString& path);
    QString databasePath() const;

    RunHistoryModel* model() const { return m_model; }
    QSortFilterProxyModel* proxy() const { return m_proxy; }
    PlaceholderTableView* view() const { return m_view; }
    QLineEdit* filterEdit() const { return m_filter; }
    RunHistoryLoader* loader() const { return m_loader; }
    // The text shown when the database could not be read or written; empty when all is well.
    QString errorText() const;

    QAction* openAction() const { return m_openAction; }
    QAction* deleteAction() const { return m_deleteAction; }
    QAction* renameAction() const { return m_renameAction; }
    QAction* notesAction() const { return m_notesAction; }
    QAction* compareAction() const { return m_compareAction; }
    QAction* refreshAction() const { return m_refreshAction; }
    QAction* checkAction() const { return m_checkAction; }

    // The run ids of the selected rows, in the order of the view.
    QList<qint64> selectedRuns() const;
    void selectRun(qint64 runId);

public slots:
    void reload();

signals:
    void runOpened(qint64 runId);
    void compareRequested(qint64 a, qint64 b);
    // Emitted after each load of the list, good or bad, so tests and the main window can follow.
    void reloaded();

private:
    void showRuns(const QVector<RunHistoryRow>& rows);
    void showFailure(const QString& what, const QString& message);
    void showCheck(const QString& path, int runs, const QStringList& problems);
    void showCheckFailure(const QString& message);
    void updateActions();
    void openCurrent();
    void deleteSelected();
    void editCurrent(int column);
    void compareSelected();

    RunHistoryLoader* m_loader = nullptr;
    RunHistoryModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    QLineEdit* m_filter = nullptr;
    PlaceholderTableView* m_view = nullptr;
    QLabel* m_message = nullptr;
    QAction* m_openAction = nullptr;
    QAction* m_deleteAction = nullptr;
    QAction* m_renameAction = nullptr;
    QAction* m_notesAction = nullptr;
    QAction* m_compareAction = nullptr;
    QAction* m_refreshAction = nullptr;
    QAction* m_checkAction = nullptr;
};

} // namespace tfreeze
