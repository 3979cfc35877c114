#include "ui/about_dialog.h"

#include "core/plan/lp_model.h"
#include "core/store/sqlite_connection.h"
#ifdef TFREEZE_WITH_ENGINE
#include "core/engine/training_session.h"
#endif

#include <QMessageBox>
#include <QStringList>
#include <QWidget>

namespace tfreeze {

QString studioVersionsText()
{
    QStringList lines;
    lines << QStringLiteral("TimelyFreeze Studio %1").arg(QStringLiteral(TFREEZE_VERSION));
    lines
        << QStringLiteral("Qt %1 (built with %2)").arg(QString::fromLatin1(qVersion()), QStringLiteral(QT_VERSION_STR));
#ifdef TFREEZE_WITH_ENGINE
    lines << QStringLiteral("LibTorch %1").arg(QString::fromStdString(libtorchVersion()));
#else
    lines << QStringLiteral("LibTorch: not built in (TFREEZE_ENGINE=OFF): profiles, traces and history only");
#endif
    lines << QStringLiteral("lp_solve %1").arg(QString::fromStdString(lpSolveVersion()));
    lines << QStringLiteral("SQLite %1").arg(QString::fromStdString(sqliteLibraryVersion()));
    return lines.join(QLatin1Char('\n'));
}

void showAboutDialog(QWidget* parent)
{
    const QString text = QStringLiteral("<h3>TimelyFreeze Studio</h3>"
                                        "<p>Pipeline timelines, bubbles and freeze planning for pipeline-parallel "
                                        "training (the TimelyFreeze method).</p><pre>%1</pre>"
                                        "<p>Licensed under the GNU GPL v3 or later (Qt Charts is GPL-3).</p>")
                             .arg(studioVersionsText().toHtmlEscaped());
    QMessageBox::about(parent, QObject::tr("About TimelyFreeze Studio"), text);
}

} // namespace tfreeze
