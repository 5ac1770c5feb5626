/* Sortable tables: click a column heading to sort by it (numbers by their data-value). Plain ES5 for old browsers;
   the page works without it. */
(function () {
  function cellValue(row, index) {
    var cell = row.children[index];
    if (!cell) return '';
    var v = cell.getAttribute('data-value');
    return v === null ? (cell.textContent || '').trim().toLowerCase() : parseFloat(v);
  }
  function sortBy(table, th, index) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = th.getAttribute('aria-sort') !== 'ascending';
    rows.sort(function (a, b) {
      var x = cellValue(a, index);
      var y = cellValue(b, index);
      if (typeof x === 'number' && typeof y === 'number') return ascending ? x - y : y - x;
      return ascending ? String(x).localeCompare(String(y), 'vi') : String(y).localeCompare(String(x), 'vi');
    });
    var heads = th.parentNode.children;
    for (var i = 0; i < heads.length; i++) heads[i].removeAttribute('aria-sort');
    th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
    for (var j = 0; j < rows.length; j++) body.appendChild(rows[j]);
  }
  var tables = document.querySelectorAll('table.sortable');
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      var heads = table.tHead ? table.tHead.rows[0].children : [];
      for (var h = 0; h < heads.length; h++) {
        (function (th, index) {
          th.setAttribute('tabindex', '0');
          th.addEventListener('click', function () { sortBy(table, th, index); });
          th.addEventListener('keydown', function (e) { if (e.key === 'Enter') sortBy(table, th, index); });
        })(heads[h], h);
      }
    })(tables[t]);
  }
})();
