#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace tfreeze {

// A thin owner of one lp_solve model. lp_lib.h defines hundreds of macros (TRUE, EQ, ...), so
// only lp_model.cpp includes it; everything else talks to this class.
class LpModel {
public:
    enum class RowSense { LessEqual, GreaterEqual, Equal };
    enum class Status { Optimal, Infeasible, Unbounded, TimedOut, Cancelled, Failed };
    // Called from inside solve(), about twice a simplex pivot, with the pivots of this solve so
    // far; returning true stops the solve (Status::Cancelled). The model must not be solved again
    // after that (SETUP-NOTES.md: lp_solve crashed re-solving an aborted model).
    using AbortCheck = std::function<bool(long long pivots)>;

    // Columns are numbered 1..columns, as in lp_solve; every column starts with bounds [0, +inf).
    explicit LpModel(int columns);
    ~LpModel();
    LpModel(const LpModel&) = delete;
    LpModel& operator=(const LpModel&) = delete;

    // Rows are added much faster in lp_solve's row mode; call endRows() before solving.
    void beginRows();
    void endRows();
    // Returns the new row's index (1-based).
    int addRow(const std::vector<int>& columns, const std::vector<double>& values, RowSense sense, double rhs);

    void setBounds(int column, double lower, double upper);
    // The column takes 0 or a value in [lower, upper], never between 0 and lower: lp_solve's
    // semi-continuous variable, which solve() then settles by branch and bound.
    void setSemiContinuous(int column, bool semiContinuous);
    void setRhs(int row, double rhs);
    // `coefficients[c]` for column c; index 0 is ignored. Minimised.
    void setObjective(const std::vector<double>& coefficients);
    void setTimeout(double seconds);
    void setAbortCheck(AbortCheck check);
    // How lp_solve scales rows and columns before solving: its default (geometric mean, then
    // equilibrated so that no scaled entry exceeds 1) or the geometric mean alone.
    enum class Scaling { GeometricEquilibrated, Geometric };
    void setScaling(Scaling scaling);

    // Warm: lp_solve starts from the basis of the previous solve of this model.
    Status solve();
    // The basis the next solve starts from, in lp_solve's set_basis() form with nonbasic = TRUE:
    // rows + columns entries after an unused entry 0; the first `rows` name the basic variables,
    // the rest the nonbasic ones. Index i ≤ rows is row i's slack, rows + c is column c; negative
    // means at its lower bound, positive at its upper bound. False when lp_solve rejects it.
    bool setBasis(const std::vector<int>& basis);
    // The basis of the last solve in setBasis()'s form (the optimal one after an optimal solve).
    std::vector<int> basis() const;
    // A fingerprint of the rows' sparsity pattern and senses and of the column count (FNV-1a):
    // two models with the same fingerprint take each other's bases. Coefficients, right-hand
    // sides, bounds and the objective are not part of it: a basis stays a valid start when they
    // change.
    std::uint64_t structureFingerprint() const;
    // Index c holds column c; index 0 is unused.
    std::vector<double> columnValues() const;
    // The objective at the last solution.
    double objectiveValue() const;

    // Simplex pivots of the last solve.
    long long pivotCount() const;
    int rowCount() const;
    int columnCount() const;
    long long nonZeroCount() const;

private:
    struct Private;
    std::unique_ptr<Private> d;
};

// "5.5.2.11": the lp_solve library linked in, for About boxes and bug reports.
std::string lpSolveVersion();

} // namespace tfreeze
