"""Linearisation variance for a stratified design with calibrated weights.

Notes
-----
For a weighted mean the influence values are ``x_i = w_i (y_i - ybar) / W``.
With calibration, they are replaced by their residuals on the calibration
variables, exactly as R's ``svyrecvar`` does for ``calibrate()`` objects
(``qr.resid(qr(mm * sqrt(w0)), x / (g sqrt(w0))) * g sqrt(w0)``), which reduces to

    z_i = x_i - w_i m_i' beta,  beta = (sum_i w0_i m_i m_i')^- sum_i m_i x_i / g_i

with base weights ``w0``, final weights ``w`` and ``g = w / w0``. The calibration
columns never span two districts, so the cross-product matrix is block
diagonal and small (a few columns per district); no n × n matrix is formed.
The variance of a stratified with-replacement design is then

    V = sum_h n_h / (n_h - 1) sum_{i in h} (z_i - zbar_h)^2.

References
----------
Lumley, T. (2010). Complex Surveys: A Guide to Analysis Using R. Wiley. Ch. 7.
Lumley, T. survey: analysis of complex survey samples. R package (svyrecvar).
"""

from __future__ import annotations

import numpy as np

from analysis.weighting import CalibrationModel


class Projection:
    """The calibration projection of a weighting (see module notes).

    The cross-product matrix depends only on the weighting, so it is built and
    pseudo-inverted once; :meth:`residuals` is then cheap per estimate.
    """

    def __init__(self, weights: np.ndarray, base: np.ndarray, model: CalibrationModel | None):
        self.model = model
        self.weights = weights
        self.g = weights / base
        if model is None:
            return
        cols = model.n_columns
        xtw = np.zeros((cols, cols))
        for fa in model.factors:
            for fb in model.factors:
                ok = (fa >= 0) & (fb >= 0)
                flat = fa[ok] * cols + fb[ok]
                xtw += np.bincount(flat, base[ok], minlength=cols * cols).reshape(cols, cols)
        self.pinv = np.linalg.pinv(xtw)

    def residuals(self, x: np.ndarray, scope: np.ndarray) -> np.ndarray:
        """Residuals of influence values *x* given for the rows *scope*."""
        if self.model is None:
            return x
        cols = self.model.n_columns
        w, g = self.weights[scope], self.g[scope]
        factors = [f[scope] for f in self.model.factors]
        rhs = np.zeros(cols)
        for f in factors:
            ok = f >= 0
            rhs += np.bincount(f[ok], (x / g)[ok], minlength=cols)
        beta = self.pinv @ rhs
        fitted = np.zeros_like(x)
        for f in factors:
            ok = f >= 0
            fitted[ok] += beta[f[ok]]
        return x - w * fitted


def stratified_variance(z: np.ndarray, strata: np.ndarray, n_strata: int) -> float:
    """Variance of a total of *z* in a stratified with-replacement design."""
    n_h = np.bincount(strata, minlength=n_strata).astype(float)
    sum_h = np.bincount(strata, z, minlength=n_strata)
    mean_h = np.divide(sum_h, n_h, out=np.zeros_like(sum_h), where=n_h > 0)
    ss_h = np.bincount(strata, (z - mean_h[strata]) ** 2, minlength=n_strata)
    factor = np.divide(n_h, n_h - 1, out=np.zeros_like(n_h), where=n_h > 1)
    return float(np.sum(factor * ss_h))
