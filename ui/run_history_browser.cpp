#include "ui/run_history_browser.h"

#include "ui/column_chooser.h"
#include "ui/run_history_model.h"

#include <QAction>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QToolBar>
#include <QVBoxLayout>

#include <algorithm>

namespace tfreeze {

RunHistoryBrowser::RunHistoryBrowser(QWidget* parent)
    : QWidget(parent)
    , m_loader(new RunHistoryLoader(this))
    , m_model(new RunHistoryModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_filter(new QLineEdit(this))
    , m_view(new PlaceholderTableView(this))
    , m_message(new QLabel(this))
{
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(RunHistoryModel::SortRole);
    m_proxy->setFilterKeyColumn(-1); // every column
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setSortCaseSensitivity(Qt::CaseInsensitive);

    m_filter->setPlaceholderText(tr("Filter runs (any column)"));
    m_filter->setClearButtonEnabled(true);
    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    const auto updatePlaceholder = [this](const QString& filter) {
        m_view->setPlaceholderText(filter.isEmpty()
                ? tr("No runs in this database yet.\nStart the default run (Ctrl+R) or a new one (Ctrl+N); "
                     "File → Open reads a profile, plan or trace.")
                : tr("No run matches \"%1\".").arg(filter));
    };
    connect(m_filter, &QLineEdit::textChanged, this, updatePlaceholder);
    updatePlaceholder(QString());

    m_view->setModel(m_proxy);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(RunHistoryModel::CreatedColumn, Qt::DescendingOrder);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::ExtendedSelection);
    // Editing starts only from the Rename and Notes actions: a double-click opens the run.
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->verticalHeader()->hide();
    m_view->horizontalHeader()->setStretchLastSection(true);
    m_view->setAlternatingRowColors(true);
    enableColumnChooser(m_view->horizontalHeader());
    connect(m_view, &QAbstractItemView::activated, this, [this](const QModelIndex& index) {
        const qint64 run = index.data(RunHistoryModel::RunIdRole).toLongLong();
        if (run > 0)
            emit runOpened(run);
    });

    // The message replaces nothing and hides nothing: the last good list stays readable below it.
    m_message->setWordWrap(true);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setForegroundRole(QPalette::Text);
    m_message->hide();

    const auto makeAction = [this](const QString& text, const QKeySequence& key, auto slot) {
        auto* action = new QAction(text, this);
        if (!key.isEmpty())
            action->setShortcut(key);
        action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
        connect(action, &QAction::triggered, this, slot);
        addAction(action);
        return action;
    };
    m_openAction = makeAction(tr("Open"), QKeySequence(), [this] { openCurrent(); });
    m_deleteAction = makeAction(tr("Delete…"), QKeySequence(QKeySequence::Delete), [this] { deleteSelected(); });
    m_renameAction
        = makeAction(tr("Rename"), QKeySequence(Qt::Key_F2), [this] { editCurrent(RunHistoryModel::NameColumn); });
    m_notesAction = makeAction(tr("Notes"), QKeySequence(), [this] { editCurrent(RunHistoryModel::NotesColumn); });
    m_compareAction = makeAction(tr("Compare"), QKeySequence(), [this] { compareSelected(); });
    m_refreshAction = makeAction(tr("Refresh"), QKeySequence(Qt::Key_F5), [this] { reload(); });
    m_checkAction = makeAction(tr("Check Database"), QKeySequence(), [this] {
        m_checkAction->setEnabled(false); // one check at a time; the result enables it again
        m_loader->checkDatabase();
    });
    m_checkAction->setToolTip(tr("Read the whole run database for damage; changes nothing"));

    auto* toolBar = new QToolBar(this);
    toolBar->addWidget(m_filter);
    for (QAction* action : { m_openAction, m_renameAction, m_notesAction, m_compareAction, m_deleteAction,
             m_refreshAction, m_checkAction })
        toolBar->addAction(action);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(toolBar);
    layout->addWidget(m_message);
    layout->addWidget(m_view);

    connect(m_loader, &RunHistoryLoader::runsLoaded, this, &RunHistoryBrowser::showRuns);
    connect(m_loader, &RunHistoryLoader::loadFailed, this, &RunHistoryBrowser::showFailure);
    connect(m_loader, &RunHistoryLoader::databaseChecked, this, &RunHistoryBrowser::showCheck);
    connect(m_loader, &RunHistoryLoader::writeFinished, this, [this](qint64, const QString& what) {
        // A rename or a note is already in the row; a delete needs the list again.
        if (what.startsWith(QLatin1String("delete")))
            reload();
    });
    connect(m_model, &RunHistoryModel::renameRequested, m_loader, &RunHistoryLoader::renameRun);
    connect(m_model, &RunHistoryModel::notesRequested, m_loader, &RunHistoryLoader::setRunNotes);
    connect(m_view->selectionModel(), &QItemSelectionModel::selectionChanged, this, &RunHistoryBrowser::updateActions);
    connect(m_proxy, &QAbstractItemModel::modelReset, this, &RunHistoryBrowser::updateActions);
    updateActions();
}

RunHistoryBrowser::~RunHistoryBrowser() = default;

void RunHistoryBrowser::setDatabasePath(const QString& path)
{
    m_loader->setDatabasePath(path);
    reload();
}

QString RunHistoryBrowser::databasePath() const { return m_loader->databasePath(); }

QString RunHistoryBrowser::errorText() const { return m_message->isHidden() ? QString() : m_message->text(); }

void RunHistoryBrowser::reload()
{
    // No database yet is the normal first start, not an error: the first run creates it.
    if (!databasePath().isEmpty() && !QFileInfo::exists(databasePath())) {
        m_model->setRows({});
        m_message->setText(tr("No runs yet: runs you start are recorded in %1.").arg(databasePath()));
        m_message->show();
        emit reloaded();
        return;
    }
    m_loader->loadRuns();
}

void RunHistoryBrowser::showRuns(const QVector<RunHistoryRow>& rows)
{
    const QList<qint64> selected = selectedRuns();
    m_message->hide();
    m_model->setRows(rows);
    for (qint64 run : selected)
        selectRun(run);
    emit reloaded();
}

void RunHistoryBrowser::showFailure(const QString& what, const QString& message)
{
    if (what == QLatin1String("check the database")) {
        showCheckFailure(message);
        return;
    }
    m_message->setText(tr("Could not read or write the run history (%1): %2").arg(what, message));
    m_message->show();
    if (what == QLatin1String("runs")) {
        m_model->setRows({});
        emit reloaded();
    } else {
        // A failed write leaves the row as the user typed it: show the database's truth again.
        reload();
    }
}

// Window-modal and not waited for: the result arrives from the loader, and a nested event loop
// here would let another result arrive inside this one.
void RunHistoryBrowser::showCheck(const QString& path, int runs, const QStringList& problems)
{
    m_checkAction->setEnabled(true);
    auto* box = new QMessageBox(this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->setWindowTitle(tr("Check Database"));
    if (problems.isEmpty()) {
        box->setIcon(QMessageBox::Information);
        box->setText(runs == 1 ? tr("No problems found in %1 (1 run).").arg(path)
                               : tr("No problems found in %1 (%2 runs).").arg(path).arg(runs));
    } else {
        box->setIcon(QMessageBox::Warning);
        box->setText(problems.size() == 1 ? tr("%1: 1 problem found.").arg(path)
                                          : tr("%1: %2 problems found.").arg(path).arg(problems.size()));
        box->setInformativeText(tr("The file was left as it is. `sqlite3 %1 .recover | sqlite3 rescued.sqlite` may "
                                   "rescue what is still readable.")
                                    .arg(path));
        box->setDetailedText(problems.join(QLatin1Char('\n')));
    }
    box->open();
}

void RunHistoryBrowser::showCheckFailure(const QString& message)
{
    m_checkAction->setEnabled(true);
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Check Database"),
        tr("The run database could not be checked: %1").arg(message), QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

QList<qint64> RunHistoryBrowser::selectedRuns() const
{
    QList<qint64> runs;
    const QModelIndexList rows = m_view->selectionModel()->selectedRows();
    QModelIndexList sorted = rows;
    std::sort(
        sorted.begin(), sorted.end(), [](const QModelIndex& a, const QModelIndex& b) { return a.row() < b.row(); });
    for (const QModelIndex& index : sorted)
        runs.append(index.data(RunHistoryModel::RunIdRole).toLongLong());
    return runs;
}

void RunHistoryBrowser::selectRun(qint64 runId)
{
    const int sourceRow = m_model->rowOfRun(runId);
    if (sourceRow < 0)
        return;
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
    if (!index.isValid())
        return;
    m_view->selectionModel()->select(index, QItemSelectionModel::Select | QItemSelectionModel::Rows);
    m_view->selectionModel()->setCurrentIndex(index, QItemSelectionModel::NoUpdate);
}

void RunHistoryBrowser::updateActions()
{
    const int count = static_cast<int>(m_view->selectionModel()->selectedRows().size());
    m_openAction->setEnabled(count == 1);
    m_renameAction->setEnabled(count == 1);
    m_notesAction->setEnabled(count == 1);
    m_deleteAction->setEnabled(count >= 1);
    m_compareAction->setEnabled(count == 2);
}

void RunHistoryBrowser::openCurrent()
{
    const QList<qint64> runs = selectedRuns();
    if (runs.size() == 1)
        emit runOpened(runs.first());
}

void RunHistoryBrowser::deleteSelected()
{
    const QList<qint64> runs = selectedRuns();
    if (runs.isEmpty())
        return;
    QStringList names;
    for (qint64 run : runs) {
        const int row = m_model->rowOfRun(run);
        const QString name = row < 0 ? QString() : QString::fromStdString(m_model->rows()[row].record.name);
        names.append(tr("run %1 “%2”").arg(run).arg(name));
    }
    QMessageBox confirm(QMessageBox::Warning, tr("Delete runs"),
        runs.size() == 1 ? tr("Delete %1 and everything recorded of it?").arg(names.first())
                         : tr("Delete %n runs and everything recorded of them?\n%1", nullptr, int(runs.size()))
                               .arg(names.join(QLatin1Char('\n'))),
        QMessageBox::Yes | QMessageBox::Cancel, this);
    confirm.setDefaultButton(QMessageBox::Cancel); // Del then Enter must not delete by accident
    if (confirm.exec() != QMessageBox::Yes)
        return;
    for (qint64 run : runs)
        m_loader->deleteRun(run);
}

void RunHistoryBrowser::editCurrent(int column)
{
    const QList<qint64> runs = selectedRuns();
    if (runs.size() != 1)
        return;
    const int sourceRow = m_model->rowOfRun(runs.first());
    const QModelIndex index = m_proxy->mapFromSource(m_model->index(sourceRow, column));
    if (!index.isValid())
        return;
    m_view->setCurrentIndex(index);
    m_view->edit(index);
}

void RunHistoryBrowser::compareSelected()
{
    QList<qint64> runs = selectedRuns();
    if (runs.size() != 2)
        return;
    std::sort(runs.begin(), runs.end());
    emit compareRequested(runs[0], runs[1]);
}

} // namespace tfreeze
