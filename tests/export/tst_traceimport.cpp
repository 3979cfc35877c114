#include <QtTest>
class TestTraceImport : public QObject {
    Q_OBJECT
};
QTEST_GUILESS_MAIN(TestTraceImport)
#include "tst_traceimport.moc"
