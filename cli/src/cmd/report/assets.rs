//! The page's inline style and script (nothing is fetched).

/// The style sheet.
pub const CSS: &str = "
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1f2328;background:#f6f8fa}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0}h3{font-size:14px;margin:12px 0 4px}
.sub{color:#57606a;margin-bottom:12px}.stamp{color:#57606a;font-size:12px;margin-bottom:12px}
table{border-collapse:collapse;background:#fff;box-shadow:0 1px 3px #0002;border-radius:6px}
th,td{padding:5px 9px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top}
th{background:#24292f;color:#fff;cursor:pointer;user-select:none;position:sticky;top:0;font-weight:600;white-space:nowrap}
th[aria-sort=ascending]::after{content:' \\25B2'}th[aria-sort=descending]::after{content:' \\25BC'}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}td.z{color:#afb8c1}
td.m,td.p{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}td.m{white-space:nowrap}td.p{overflow-wrap:anywhere;min-width:14em}
tr:hover td{background:#f3f8ff}
#fleet td:nth-child(-n+3),#fleet td:last-child{white-space:nowrap}
.v{display:inline-block;font-style:normal;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.v-ok{background:#dafbe1;color:#116329}.v-warn{background:#fff8c5;color:#7d4e00}.v-fail{background:#ffebe9;color:#a40e26}
.v-infra{background:#eef1f4;color:#57606a}.v-stale{background:#ffe7d1;color:#953800}
.v-held{background:#dafbe1;color:#116329}.v-broken{background:#ffebe9;color:#a40e26}.v-not-judged{background:#eef1f4;color:#57606a}
section.host{background:#fff;margin:18px 0;padding:14px 16px;border-radius:6px;box-shadow:0 1px 3px #0002}
section.host header{display:flex;gap:12px;align-items:baseline;margin-bottom:8px;flex-wrap:wrap}
section.host table{box-shadow:none;font-size:13px}
.legend{display:flex;gap:14px;font-size:12px;color:#57606a;margin:10px 0 18px;flex-wrap:wrap}
.legend span{display:inline-flex;align-items:center;gap:5px}
.sw{width:14px;height:14px;border-radius:3px;display:inline-block;border:1px solid #0003}
svg text{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
ul.reasons{margin:4px 0 8px;padding-left:18px}ul.reasons li{margin:2px 0}
.r-fail{color:#a40e26}.r-warn{color:#7d4e00}.r-info{color:#57606a}
.filters{display:flex;gap:12px;align-items:center;margin:8px 0 12px;flex-wrap:wrap}
.filters input[type=search]{padding:4px 8px;min-width:260px}
";

/// The script: sorting by a column, search and filters over the hosts'
/// rows (an address ending in `#q=TEXT`, `#verdict=fail`,
/// `#reboot=broken` or several joined by `&` sets them); it marks the body
/// `data-ready` (and how many milliseconds after navigation it was ready)
/// once it has run.
pub const JS: &str = "
(function(){
  var t=document.getElementById('fleet');
  function ready(){var b=document.body;b.setAttribute('data-ready-ms',String(Math.round(performance.now())));b.setAttribute('data-ready','1');}
  if(!t){ready();return;}
  var ths=t.tHead.rows[0].cells,body=t.tBodies[0],rank={ok:0,warn:1,fail:2};
  function key(td){var v=td.getAttribute('data-v');if(v!==null)return parseFloat(v);
    var x=td.textContent;if(x in rank)return rank[x];if(td.className.charAt(0)==='n')return parseFloat(x);return x.toLowerCase();}
  Array.prototype.forEach.call(ths,function(th,i){
    th.addEventListener('click',function(){
      var asc=th.getAttribute('aria-sort')!=='ascending';
      Array.prototype.forEach.call(ths,function(o){o.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',asc?'ascending':'descending');
      var rows=Array.prototype.slice.call(body.rows);
      rows.sort(function(a,b){var x=key(a.cells[i]),y=key(b.cells[i]);
        if(x<y)return asc?-1:1;if(x>y)return asc?1:-1;return 0;});
      var f=document.createDocumentFragment();rows.forEach(function(r){f.appendChild(r);});body.appendChild(f);
    });
  });
  var q=document.getElementById('q'),sv=document.getElementById('verdict'),sr=document.getElementById('reboot'),st=document.getElementById('stale'),shown=document.getElementById('shown');
  function apply(){
    var text=q.value.toLowerCase(),v=sv.value,rb=sr.value,only=st.checked,n=0;
    Array.prototype.forEach.call(body.rows,function(r){
      if(r._q===undefined)r._q=r.textContent.toLowerCase();
      var ok=(!text||r._q.indexOf(text)>=0)&&(!v||r.cells[3].textContent===v)&&(!rb||r.cells[4].textContent.indexOf(rb)===0)&&(!only||r.hasAttribute('data-stale'));
      r.hidden=!ok;if(ok)n++;
    });
    shown.textContent=String(n);
  }
  if(q){q.addEventListener('input',apply);sv.addEventListener('change',apply);sr.addEventListener('change',apply);st.addEventListener('change',apply);
    var set={q:q,verdict:sv,reboot:sr},given=false;
    location.hash.slice(1).split('&').forEach(function(p){var i=p.indexOf('=');var el=i>0&&set[p.slice(0,i)];
      if(el){el.value=decodeURIComponent(p.slice(i+1));given=true;}});
    if(given)apply();}
  ready();
})();
";
